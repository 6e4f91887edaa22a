package tenant

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// twoAPIConfig is the default plus a second API that only other-client may use.
func twoAPIConfig(t *testing.T) *Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.APIs = append(cfg.APIs, API{Audience: "https://other/api", Scopes: []string{"read:other"}})
	cfg.Clients = append(cfg.Clients, Client{ID: "other-client", Secret: "other:secret&=%", Grants: map[string][]string{"https://other/api": {"read:other"}}})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	f := start(t, twoAPIConfig(t), Options{})
	cc := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		authz       string
		status      int
		errCode     string
		errContains string
		sub, scope  string // on success
		aud         string // on success; default testAudience
	}{
		{name: "form client_secret_post", body: cc("client_id", "quickstart-read", "client_secret", "read-secret", "audience", testAudience).Encode(),
			status: 200, sub: "quickstart-read@clients", scope: "read:messages"},
		{name: "Auth0 JSON body", contentType: "application/json",
			body:   `{"grant_type":"client_credentials","client_id":"quickstart-write","client_secret":"write-secret","audience":"https://quickstarts/api"}`,
			status: 200, sub: "quickstart-write@clients", scope: "write:messages"},
		{name: "JSON with charset", contentType: "application/json; charset=utf-8",
			body:   `{"grant_type":"client_credentials","client_id":"quickstart-write","client_secret":"write-secret","audience":"https://quickstarts/api"}`,
			status: 200, sub: "quickstart-write@clients", scope: "write:messages"},
		{name: "client_secret_basic", body: cc("audience", testAudience).Encode(), authz: basic("quickstart-readwrite", "readwrite-secret"),
			status: 200, sub: "quickstart-readwrite@clients", scope: "read:messages write:messages"},
		{name: "basic with url-encoded special characters", body: cc("audience", "https://other/api").Encode(), authz: basic("other-client", "other:secret&=%"),
			status: 200, sub: "other-client@clients", scope: "read:other", aud: "https://other/api"},
		{name: "basic plus the same client_id in the body", body: cc("client_id", "quickstart-read", "audience", testAudience).Encode(), authz: basic("quickstart-read", "read-secret"),
			status: 200, sub: "quickstart-read@clients", scope: "read:messages"},
		{name: "grant without scopes has no scope", body: cc("client_id", "quickstart-noscope", "client_secret", "noscope-secret", "audience", testAudience).Encode(),
			status: 200, sub: "quickstart-noscope@clients", scope: ""},
		{name: "scope narrows", body: cc("client_id", "quickstart-readwrite", "client_secret", "readwrite-secret", "audience", testAudience, "scope", "read:messages").Encode(),
			status: 200, sub: "quickstart-readwrite@clients", scope: "read:messages"},
		{name: "scope not granted", body: cc("client_id", "quickstart-read", "client_secret", "read-secret", "audience", testAudience, "scope", "read:messages write:messages").Encode(),
			status: 400, errCode: "invalid_scope", errContains: "write:messages"},
		{name: "wrong secret post", body: cc("client_id", "quickstart-read", "client_secret", "nope", "audience", testAudience).Encode(),
			status: 401, errCode: "invalid_client"},
		{name: "wrong secret basic", body: cc("audience", testAudience).Encode(), authz: basic("quickstart-read", "nope"),
			status: 401, errCode: "invalid_client"},
		{name: "malformed basic", body: cc("audience", testAudience).Encode(), authz: "Basic !!!",
			status: 401, errCode: "invalid_client", errContains: "Basic"},
		{name: "bearer in authorization", body: cc("audience", testAudience).Encode(), authz: "Bearer abc",
			status: 401, errCode: "invalid_client"},
		{name: "unknown client", body: cc("client_id", "nobody", "client_secret", "x", "audience", testAudience).Encode(),
			status: 401, errCode: "invalid_client", errContains: "nobody"},
		{name: "no client authentication", body: cc("audience", testAudience).Encode(),
			status: 401, errCode: "invalid_client"},
		{name: "confidential client without secret", body: cc("client_id", "quickstart-read", "audience", testAudience).Encode(),
			status: 401, errCode: "invalid_client", errContains: "client_secret"},
		{name: "two authentication methods", body: cc("client_secret", "read-secret", "audience", testAudience).Encode(), authz: basic("quickstart-read", "read-secret"),
			status: 400, errCode: "invalid_request", errContains: "one client authentication method"},
		{name: "body client_id differs from basic", body: cc("client_id", "quickstart-write", "audience", testAudience).Encode(), authz: basic("quickstart-read", "read-secret"),
			status: 400, errCode: "invalid_request"},
		{name: "missing audience", body: cc("client_id", "quickstart-read", "client_secret", "read-secret").Encode(),
			status: 400, errCode: "invalid_request", errContains: "audience"},
		{name: "unknown audience", body: cc("client_id", "quickstart-read", "client_secret", "read-secret", "audience", "https://nope/").Encode(),
			status: 403, errCode: "access_denied", errContains: "Service not found: https://nope/"},
		{name: "no grant for audience", body: cc("client_id", "quickstart-read", "client_secret", "read-secret", "audience", "https://other/api").Encode(),
			status: 403, errCode: "access_denied", errContains: "not authorized"},
		{name: "public client cannot use client_credentials", body: cc("client_id", "cli", "audience", testAudience).Encode(),
			status: 400, errCode: "unauthorized_client"},
		{name: "public client with a secret", body: cc("client_id", "cli", "client_secret", "x", "audience", testAudience).Encode(),
			status: 401, errCode: "invalid_client"},
		{name: "missing grant_type", body: "client_id=quickstart-read&client_secret=read-secret",
			status: 400, errCode: "invalid_request", errContains: "grant_type"},
		{name: "unsupported grant_type", body: "grant_type=password&username=alice&password=alice-password",
			status: 400, errCode: "unsupported_grant_type"},
		{name: "parameter twice", body: cc("client_id", "quickstart-read", "client_secret", "read-secret", "audience", testAudience).Encode() + "&audience=x",
			status: 400, errCode: "invalid_request", errContains: "more than once"},
		{name: "malformed form", body: "grant_type=%zz", status: 400, errCode: "invalid_request"},
		{name: "text/plain", contentType: "text/plain", body: "grant_type=client_credentials", status: 400, errCode: "invalid_request", errContains: "Content-Type"},
		{name: "no content type", contentType: "-", body: "grant_type=client_credentials", status: 400, errCode: "invalid_request"},
		{name: "bad JSON", contentType: "application/json", body: `{"grant_type":`, status: 400, errCode: "invalid_request"},
		{name: "JSON array", contentType: "application/json", body: `["grant_type"]`, status: 400, errCode: "invalid_request"},
		{name: "JSON null", contentType: "application/json", body: `null`, status: 400, errCode: "invalid_request"},
		{name: "JSON non-string value", contentType: "application/json", body: `{"grant_type":"client_credentials","audience":1}`, status: 400, errCode: "invalid_request", errContains: "audience"},
		{name: "JSON trailing data", contentType: "application/json", body: `{"grant_type":"client_credentials"} {}`, status: 400, errCode: "invalid_request"},
		{name: "huge body", body: "grant_type=client_credentials&x=" + strings.Repeat("a", maxParamsBytes), status: 413, errCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			switch ct {
			case "":
				ct = "application/x-www-form-urlencoded"
			case "-":
				ct = ""
			}
			h := http.Header{}
			if tc.authz != "" {
				h.Set("Authorization", tc.authz)
			}
			resp, raw := f.do(http.MethodPost, PathToken, ct, tc.body, h)
			body := decodeObject(t, raw)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %v", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if got := resp.Header.Get("Pragma"); got != "no-cache" {
				t.Errorf("Pragma %q, want no-cache", got)
			}
			if tc.status != http.StatusOK {
				if body["error"] != tc.errCode {
					t.Errorf("error %v, want %s (%v)", body["error"], tc.errCode, body["error_description"])
				}
				desc, _ := body["error_description"].(string)
				if desc == "" || !strings.Contains(desc, tc.errContains) {
					t.Errorf("error_description %q, want it to contain %q", desc, tc.errContains)
				}
				if _, ok := body["access_token"]; ok {
					t.Error("error response carries an access_token")
				}
				wa := resp.Header.Get("WWW-Authenticate")
				if (tc.status == http.StatusUnauthorized) != strings.HasPrefix(wa, "Basic ") {
					t.Errorf("status %d with WWW-Authenticate %q", tc.status, wa)
				}
				return
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(24*3600) {
				t.Errorf("token_type %v expires_in %v", body["token_type"], body["expires_in"])
			}
			if got, _ := body["scope"].(string); got != tc.scope {
				t.Errorf("response scope %q, want %q", got, tc.scope)
			}
			aud := tc.aud
			if aud == "" {
				aud = testAudience
			}
			tok := body["access_token"].(string)
			claims := verifyAud(t, f, tok, aud)
			azp := strings.TrimSuffix(tc.sub, "@clients")
			if claims["sub"] != tc.sub || claims["azp"] != azp || claims["gty"] != "client-credentials" || claims["aud"] != aud || claims["iss"] != f.issuer {
				t.Errorf("claims %v", claims)
			}
			if scope, has := claims["scope"]; tc.scope == "" && has || tc.scope != "" && scope != tc.scope {
				t.Errorf("scope claim %v (present %v), want %q", scope, has, tc.scope)
			}
			iat, exp := claims["iat"].(float64), claims["exp"].(float64)
			if exp-iat != (24 * time.Hour).Seconds() {
				t.Errorf("exp-iat = %v, want token_ttl 24h", exp-iat)
			}
			if jti, _ := claims["jti"].(string); len(jti) < 16 {
				t.Errorf("jti %q", jti)
			}
			h2 := header(t, tok)
			if h2["alg"] != "RS256" || h2["typ"] != "JWT" || h2["kid"] != f.tenant.keys.current().kid || len(h2) != 3 {
				t.Errorf("header %v", h2)
			}
		})
	}
}

// verifyAud is fixture.verify for any audience.
func verifyAud(t *testing.T, f *fixture, tok, aud string) map[string]any {
	t.Helper()
	if aud == testAudience {
		return f.mustVerify(tok)
	}
	claims, err := f.verifyWithAudience(tok, aud)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return claims
}

func TestTokenEndpointJTIUnique(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	a, b := f.mustVerify(f.clientToken("quickstart-read", "read-secret")), f.mustVerify(f.clientToken("quickstart-read", "read-secret"))
	if a["jti"] == b["jti"] {
		t.Fatalf("two tokens share jti %v", a["jti"])
	}
}

func TestTokenEndpointMethodNotAllowed(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	resp, _ := f.do(http.MethodGet, PathToken, "", "", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s: %d, want 405", PathToken, resp.StatusCode)
	}
}
