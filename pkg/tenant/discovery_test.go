package tenant

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

func TestDiscovery(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	for _, path := range []string{PathOpenIDConfiguration, PathOAuthServerMetadata} {
		for _, host := range []string{"", "tenant:4000"} {
			t.Run(path+" host "+host, func(t *testing.T) {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, f.srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				base := f.srv.URL + "/"
				if host != "" {
					req.Host = host
					base = "http://" + host + "/"
				}
				resp, err := f.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var d map[string]any
				if err := json.Unmarshal(raw, &d); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %q: %v", resp.StatusCode, raw, err)
				}
				want := map[string]string{
					"issuer":                        f.issuer, // never the Host header
					"jwks_uri":                      base + ".well-known/jwks.json",
					"token_endpoint":                base + "oauth/token",
					"device_authorization_endpoint": base + "oauth/device/code",
					"mint_endpoint":                 base + "dev/mint",
					"authorization_endpoint":        base + "authorize",
					"userinfo_endpoint":             base + "userinfo",
					"end_session_endpoint":          base + "oidc/logout",
				}
				for k, v := range want {
					if d[k] != v {
						t.Errorf("%s = %v, want %s", k, d[k], v)
					}
				}
				lists := map[string][]string{
					"grant_types_supported": {"client_credentials", "urn:ietf:params:oauth:grant-type:device_code",
						"authorization_code", "refresh_token"},
					"response_types_supported":              {"code"},
					"code_challenge_methods_supported":      {"S256"},
					"token_endpoint_auth_methods_supported": {"client_secret_post", "client_secret_basic", "none"},
					"id_token_signing_alg_values_supported": {"RS256"},
					"scopes_supported":                      {"openid", "profile", "email", "offline_access", "read:messages", "write:messages"},
				}
				for k, v := range lists {
					got, _ := json.Marshal(d[k])
					wantJSON, _ := json.Marshal(v)
					if string(got) != string(wantJSON) {
						t.Errorf("%s = %s, want %s", k, got, wantJSON)
					}
				}
			})
		}
	}
}

func TestDiscoveryEndpointsWork(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	_, raw := f.do(http.MethodGet, PathOpenIDConfiguration, "", "", nil)
	d := decodeObject(t, raw)
	resp, err := f.srv.Client().Get(d["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks_uri from discovery: %d", resp.StatusCode)
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	resp, raw := f.do(http.MethodGet, PathJWKS, "", "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set struct {
		Keys []map[string]any `json:"keys"` // any: x5c is an array
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	n, _ := k["n"].(string)
	if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "RS256" || k["kid"] != f.tenant.keys.current().kid || k["e"] != "AQAB" || len(n) != 342 {
		t.Fatalf("key %v", k)
	}
	if _, private := k["d"]; private {
		t.Fatal("JWKS publishes a private exponent")
	}
}

// TestDiscoveryTrustProxy checks X-Forwarded-Proto/Host shape endpoint URLs only with TrustProxy, and that the
// issuer never follows them.
func TestDiscoveryTrustProxy(t *testing.T) {
	t.Parallel()
	trusting := start(t, nil, Options{TrustProxy: true})
	plain := start(t, nil, Options{})
	tests := []struct {
		name  string
		f     *fixture
		proto string
		host  string
		want  string // base URL; "" means the fixture's own URL
	}{
		{"ignored without trust-proxy", plain, "https", "proxy.example", ""},
		{"ignored without trust-proxy, host only", plain, "", "proxy.example:8443", ""},
		{"both", trusting, "https", "proxy.example", "https://proxy.example/"},
		{"proto only", trusting, "https", "", "https://" + trusting.srv.Listener.Addr().String() + "/"},
		{"host only", trusting, "", "proxy.example:8443", "http://proxy.example:8443/"},
		{"first of each list", trusting, "https, http", "a.example, b.example", "https://a.example/"},
		{"upper-case proto", trusting, "HTTPS", "a.example", "https://a.example/"},
		{"unknown proto ignored", trusting, "ftp", "a.example", "http://a.example/"},
		{"malformed host ignored", trusting, "https", "evil.example/path?", "https://" + trusting.srv.Listener.Addr().String() + "/"},
		{"host with userinfo ignored", trusting, "", "user@evil.example", ""},
		{"none sent", trusting, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.proto != "" {
				h.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.host != "" {
				h.Set("X-Forwarded-Host", tc.host)
			}
			resp, raw := tc.f.do(http.MethodGet, PathOpenIDConfiguration, "", "", h)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
			d := decodeObject(t, raw)
			want := tc.want
			if want == "" {
				want = tc.f.srv.URL + "/"
			}
			if d["jwks_uri"] != want+".well-known/jwks.json" || d["token_endpoint"] != want+"oauth/token" || d["mint_endpoint"] != want+"dev/mint" {
				t.Errorf("endpoints %v, %v, %v; want them under %s", d["jwks_uri"], d["token_endpoint"], d["mint_endpoint"], want)
			}
			if d["issuer"] != tc.f.issuer {
				t.Errorf("issuer %v follows the request, want %s", d["issuer"], tc.f.issuer)
			}
		})
	}
}
