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

	"github.com/golang-jwt/jwt/v5"
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
		nulls  []string // header then claim entries present as JSON null
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
		{name: "kid null", req: MintRequest{SetNull: MintNulls{Header: []string{"kid"}}}, valid: false, nulls: []string{"header.kid"}},
		{name: "exp null", req: MintRequest{SetNull: MintNulls{Claims: []string{"exp"}}}, valid: false, nulls: []string{"claims.exp"}},
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
			for _, n := range tc.nulls {
				part, k, _ := strings.Cut(n, ".")
				m := claims
				if part == "header" {
					m = h
				}
				if v, ok := m[k]; !ok || v != nil {
					t.Errorf("%s = %v (present %v), want JSON null", n, v, ok)
				}
			}
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

func TestMintAlgs(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{ECKey: true})
	rsaKid := f.tenant.keys.current().kid
	ec, ok := f.tenant.keys.ec()
	if !ok {
		t.Fatal("ECKey: the tenant has no P-256 key")
	}
	tests := []struct {
		alg, wantAlg, wantKid, wantKty string
	}{
		{"", "RS256", rsaKid, "RSA"},
		{"RS256", "RS256", rsaKid, "RSA"},
		{"RS384", "RS384", rsaKid, "RSA"},
		{"RS512", "RS512", rsaKid, "RSA"},
		{"PS256", "PS256", rsaKid, "RSA"},
		{"PS384", "PS384", rsaKid, "RSA"},
		{"PS512", "PS512", rsaKid, "RSA"},
		{"ES256", "ES256", ec.kid, "EC"},
	}
	for _, tc := range tests {
		t.Run("alg "+tc.alg, func(t *testing.T) {
			resp, body := f.postJSON(PathMint, MintRequest{Alg: tc.alg, Claims: map[string]any{"sub": "auth0|alg"}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, body)
			}
			if body["alg"] != tc.wantAlg || body["kid"] != tc.wantKid || body["token_type"] != "Bearer" {
				t.Fatalf("answer %v, want alg %s kid %s", body, tc.wantAlg, tc.wantKid)
			}
			tok := body["access_token"].(string)
			if h := header(t, tok); h["alg"] != tc.wantAlg || h["kid"] != tc.wantKid || h["typ"] != "JWT" {
				t.Fatalf("header %v", h)
			}
			claims, err := f.verifyAlg(tok, tc.wantAlg)
			if err != nil {
				t.Fatalf("golang-jwt does not verify the %s token against the JWKS: %v", tc.wantAlg, err)
			}
			if claims["sub"] != "auth0|alg" {
				t.Fatalf("claims %v", claims)
			}
			keys, _ := f.servedJWKS()
			if kty := string(keys[tc.wantKid].Marshal().KTY); kty != tc.wantKty {
				t.Fatalf("signed by a %s key, want %s", kty, tc.wantKty)
			}
			// Any other accepted method refuses it: the signature really is tc.wantAlg's.
			for _, other := range []string{"RS256", "PS256", "ES256"} {
				if other == tc.wantAlg {
					continue
				}
				if _, err := f.verifyAlg(tok, other); err == nil {
					t.Errorf("a %s token verifies as %s", tc.wantAlg, other)
				}
			}
		})
	}
	// /oauth/token keeps signing RS256 with the RSA key, EC key or not.
	if h := header(t, f.clientToken("quickstart-read", "read-secret")); h["alg"] != "RS256" || h["kid"] != rsaKid {
		t.Fatalf("client_credentials header %v with --ec-key", h)
	}
}

// TestMintAlgHeaderLies checks that signing follows the request's alg and never the header it writes: the header
// may name another alg or key (the forgeries the suite sends), the signature is still alg's by alg's key.
func TestMintAlgHeaderLies(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{ECKey: true})
	rk, ec := f.tenant.keys.current(), func() ecKey { k, _ := f.tenant.keys.ec(); return k }()
	tests := []struct {
		name    string
		req     MintRequest
		method  jwt.SigningMethod
		pub     any
		header  map[string]any // what the header must say
		answerK string         // kid in the answer: the key really used
	}{
		{"PS256 says RS256", MintRequest{Alg: "PS256", Header: map[string]any{"alg": "RS256"}}, jwt.SigningMethodPS256, &rk.priv.PublicKey,
			map[string]any{"alg": "RS256", "kid": rk.kid}, rk.kid},
		{"ES256 under the RSA kid", MintRequest{Alg: "ES256", Header: map[string]any{"alg": "RS256", "kid": rk.kid}}, jwt.SigningMethodES256, &ec.priv.PublicKey,
			map[string]any{"alg": "RS256", "kid": rk.kid}, ec.kid},
		{"RS384 says none", MintRequest{Alg: "RS384", Header: map[string]any{"alg": "none"}}, jwt.SigningMethodRS384, &rk.priv.PublicKey,
			map[string]any{"alg": "none"}, rk.kid},
		{"RS256 says ES256", MintRequest{Header: map[string]any{"alg": "ES256", "kid": ec.kid}}, jwt.SigningMethodRS256, &rk.priv.PublicKey,
			map[string]any{"alg": "ES256", "kid": ec.kid}, rk.kid},
		{"ES256 without alg header", MintRequest{Alg: "ES256", Header: map[string]any{"alg": nil}}, jwt.SigningMethodES256, &ec.priv.PublicKey,
			map[string]any{"kid": ec.kid}, ec.kid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.postJSON(PathMint, tc.req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, body)
			}
			if body["kid"] != tc.answerK || body["alg"] != tc.method.Alg() {
				t.Fatalf("answer %v: want the alg and kid really used", body)
			}
			tok := body["access_token"].(string)
			h := rawHeader(t, tok) // not header(): golang-jwt will not even parse a token without alg
			for k, v := range tc.header {
				if h[k] != v {
					t.Errorf("header %s = %v, want %v", k, h[k], v)
				}
			}
			if _, present := tc.req.Header["alg"]; present && tc.req.Header["alg"] == nil {
				if _, ok := h["alg"]; ok {
					t.Errorf("header %v: alg null must remove it", h)
				}
			}
			i := strings.LastIndex(tok, ".")
			sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.method.Verify(tok[:i], sig, tc.pub); err != nil {
				t.Fatalf("not a %s signature by the key the answer names: %v", tc.method.Alg(), err)
			}
			if lie, _ := h["alg"].(string); lie != "" && lie != tc.method.Alg() {
				if _, err := f.verifyAlg(tok, lie); err == nil {
					t.Fatalf("verifies as the %s its header claims", lie)
				}
			}
		})
	}
}

func TestMintBadAlgs(t *testing.T) {
	t.Parallel()
	plain := start(t, nil, Options{Hints: cliHints}) // as client tenant starts it
	bare := start(t, nil, Options{})                 // no hints: the generic wording
	withEC := start(t, nil, Options{ECKey: true})
	tests := []struct {
		name string
		f    *fixture
		body string
		want string // in error_description
	}{
		{"HS256", withEC, `{"alg":"HS256"}`, `alg "HS256" is not supported; use one of RS256, RS384, RS512, PS256, PS384, PS512, ES256`},
		{"none", withEC, `{"alg":"none"}`, "not supported"},
		{"lower case", withEC, `{"alg":"rs256"}`, "case-sensitive"},
		{"ES384", withEC, `{"alg":"ES384"}`, "not supported"},
		{"EdDSA", withEC, `{"alg":"EdDSA"}`, "not supported"},
		{"padded", withEC, `{"alg":" RS256"}`, "not supported"},
		{"not a string", withEC, `{"alg":256}`, "body must be"},
		{"ES256 without EC key", plain, `{"alg":"ES256"}`, "alg ES256 needs the tenant's P-256 key: start the tenant with --ec-key"},
		{"ES256 without EC key, header too", plain, `{"alg":"ES256","header":{"kid":"x"}}`, "start the tenant with --ec-key"},
		{"ES256 without EC key or hint", bare, `{"alg":"ES256"}`, "alg ES256 needs the tenant's P-256 key, which this tenant was started without"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := tc.f.do(http.MethodPost, PathMint, "application/json", tc.body, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d, want 400: %s", resp.StatusCode, raw)
			}
			body := decodeObject(t, raw)
			if body["error"] != "invalid_request" || !strings.Contains(body["error_description"].(string), tc.want) {
				t.Fatalf("body %v, want invalid_request naming %q", body, tc.want)
			}
			if tc.f != plain {
				assertNoFlagNames(t, body["error_description"].(string))
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("a mint error is cacheable")
			}
		})
	}
}

// rawHeader decodes a token's JOSE header as JSON, whatever it says.
func rawHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	first, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}
