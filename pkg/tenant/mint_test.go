package tenant

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMintDefaults(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	resp, raw := f.do(http.MethodPost, PathMint, "", "", nil) // no body at all: a normal token
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	tok := decodeObject(t, raw)["access_token"].(string)
	c := f.mustVerify(tok)
	if c["sub"] != "dev-mint@clients" || c["azp"] != "dev-mint" || c["gty"] != "client-credentials" ||
		c["scope"] != "read:messages write:messages" || c["aud"] != testAudience || c["jti"] == nil {
		t.Fatalf("claims %v", c)
	}
	if h := header(t, tok); h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != f.tenant.keys.current().kid {
		t.Fatalf("header %v", h)
	}
}

func TestMintOverrides(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	past := time.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name   string
		req    MintRequest
		valid  bool // verifies against the JWKS with iss/aud/exp checks
		claims map[string]any
		absent []string
		header map[string]any
	}{
		{name: "override sub and scope", req: MintRequest{Claims: map[string]any{"sub": "auth0|bob", "scope": "read:messages"}},
			valid: true, claims: map[string]any{"sub": "auth0|bob", "scope": "read:messages"}},
		{name: "null removes scope", req: MintRequest{Claims: map[string]any{"scope": nil}}, valid: true, absent: []string{"scope"}},
		{name: "expired", req: MintRequest{Claims: map[string]any{"exp": past}}, valid: false, claims: map[string]any{"exp": float64(past)}},
		{name: "no exp", req: MintRequest{Claims: map[string]any{"exp": nil}}, valid: false, absent: []string{"exp"}},
		{name: "other issuer", req: MintRequest{Claims: map[string]any{"iss": "https://evil/"}}, valid: false},
		{name: "audience array", req: MintRequest{Claims: map[string]any{"aud": []any{"x", testAudience}}}, valid: true},
		{name: "typ at+jwt", req: MintRequest{Header: map[string]any{"typ": "at+jwt"}}, valid: true, header: map[string]any{"typ": "at+jwt"}},
		{name: "header lies about alg", req: MintRequest{Header: map[string]any{"alg": "HS256"}}, valid: false, header: map[string]any{"alg": "HS256"}},
		{name: "jku added, kid removed", req: MintRequest{Header: map[string]any{"jku": "https://evil/jwks", "kid": nil}},
			valid: true, header: map[string]any{"jku": "https://evil/jwks"}},
		{name: "crit", req: MintRequest{Header: map[string]any{"crit": []any{"exp"}}}, valid: true, header: map[string]any{"crit": []any{"exp"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := f.mint(tc.req)
			_, err := f.verify(tok)
			if tc.valid != (err == nil) {
				t.Errorf("verify error %v, want valid=%v", err, tc.valid)
			}
			// Whatever the header says, the signature is RS256 by the current key.
			assertSignedByCurrentKey(t, f, tok)
			claims := payload(t, tok)
			for k, v := range tc.claims {
				if claims[k] != v {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := claims[k]; ok {
					t.Errorf("claim %s present, want removed", k)
				}
			}
			h := header(t, tok)
			for k, v := range tc.header {
				got, _ := json.Marshal(h[k])
				want, _ := json.Marshal(v)
				if string(got) != string(want) {
					t.Errorf("header %s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestMintBadRequests(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"not JSON", "application/json", "{", 400},
		{"unknown field", "application/json", `{"claimz":{}}`, 400},
		{"claims not an object", "application/json", `{"claims":[1]}`, 400},
		{"trailing data", "application/json", `{} {}`, 400},
		{"form body", "application/x-www-form-urlencoded", "claims=1", 415},
		{"huge", "application/json", `{"claims":{"x":"` + strings.Repeat("a", maxMintBytes) + `"}}`, 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := f.do(http.MethodPost, PathMint, tc.contentType, tc.body, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if body := decodeObject(t, raw); body["error"] != "invalid_request" {
				t.Fatalf("body %v", body)
			}
		})
	}
}

// assertSignedByCurrentKey checks the RS256 signature directly against the tenant's current public key.
func assertSignedByCurrentKey(t *testing.T, f *fixture, tok string) {
	t.Helper()
	i := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(tok[:i]))
	if err := rsa.VerifyPKCS1v15(&f.tenant.keys.current().priv.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("not an RS256 signature by the current key: %v", err)
	}
}

// payload decodes a token's claims without verifying them.
func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
