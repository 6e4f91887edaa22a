package tenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

func newDPoPSigner(t *testing.T) *dpop.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// postWithProofs posts a token request with the given DPoP header values.
func (f *fixture) postWithProofs(v url.Values, proofs ...string) (*http.Response, map[string]any) {
	f.t.Helper()
	h := http.Header{}
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	resp, b := f.do(http.MethodPost, PathToken, "application/x-www-form-urlencoded", v.Encode(), h)
	return resp, decodeObject(f.t, b)
}

// TestDPoPBoundClientCredentials: a token request with a valid proof gets a token bound to the proof's key
// (token_type DPoP, cnf.jkt, RFC 9449 §5, §6.1); a bad proof is a 400 invalid_dpop_proof; no proof, a Bearer token.
func TestDPoPBoundClientCredentials(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	s := newDPoPSigner(t)
	endpoint := f.issuer + PathToken[1:]
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {"quickstart-read"},
		"client_secret": {"read-secret"}, "audience": {"https://quickstarts/api"}}
	proof := func(method, u string, opts ...dpop.ProofOption) string {
		p, err := s.Proof(method, u, "", opts...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	replayed := proof(http.MethodPost, endpoint)
	if resp, body := f.postWithProofs(cc, replayed); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d %v", resp.StatusCode, body)
	}
	cases := []struct {
		name   string
		proofs []string
		want   int
		bound  bool
	}{
		{"valid proof", []string{proof(http.MethodPost, endpoint)}, http.StatusOK, true},
		{"no proof", nil, http.StatusOK, false},
		{"proof for GET", []string{proof(http.MethodGet, endpoint)}, http.StatusBadRequest, false},
		{"proof for another URL", []string{proof(http.MethodPost, f.issuer+"elsewhere")}, http.StatusBadRequest, false},
		{"stale proof", []string{proof(http.MethodPost, endpoint, dpop.WithIssuedAt(time.Now().Add(-time.Hour)))}, http.StatusBadRequest, false},
		{"replayed proof", []string{replayed}, http.StatusBadRequest, false},
		{"two proofs", []string{proof(http.MethodPost, endpoint), proof(http.MethodPost, endpoint)}, http.StatusBadRequest, false},
		{"not a JWT", []string{"garbage"}, http.StatusBadRequest, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.postWithProofs(cc, tc.proofs...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.want, body)
			}
			if tc.want != http.StatusOK {
				if body["error"] != "invalid_dpop_proof" {
					t.Fatalf("error %v, want invalid_dpop_proof", body["error"])
				}
				return
			}
			claims := f.mustVerify(body["access_token"].(string))
			cnf, _ := claims["cnf"].(map[string]any)
			switch {
			case tc.bound && (body["token_type"] != "DPoP" || cnf == nil || cnf["jkt"] != s.Thumbprint()):
				t.Fatalf("token_type %v, cnf %v; want DPoP bound to %s", body["token_type"], cnf, s.Thumbprint())
			case !tc.bound && (body["token_type"] != "Bearer" || cnf != nil):
				t.Fatalf("token_type %v, cnf %v; want an unbound Bearer token", body["token_type"], cnf)
			}
		})
	}
}

// TestDPoPBoundRefreshTokens: a login redeemed with a proof binds its refresh tokens to that key (RFC 9449 §5):
// refreshing needs a proof by the same key, and each refreshed access token is bound too.
func TestDPoPBoundRefreshTokens(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	s, thief := newDPoPSigner(t), newDPoPSigner(t)
	endpoint := f.issuer + PathToken[1:]
	verifier, challenge := pkce()
	params := nativeRequest(challenge, "openid offline_access read:messages")
	q := f.browser().signIn(params, "alice", "alice-password")
	p, err := s.Proof(http.MethodPost, endpoint, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.postWithProofs(url.Values{"grant_type": {"authorization_code"}, "client_id": {"native"},
		"code": {q.Get("code")}, "redirect_uri": {params.Get("redirect_uri")}, "code_verifier": {verifier}}, p)
	if resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	refresh := body["refresh_token"].(string)
	refreshWith := func(s *dpop.Signer) (*http.Response, map[string]any) {
		v := url.Values{"grant_type": {"refresh_token"}, "client_id": {"native"}, "refresh_token": {refresh}}
		if s == nil {
			return f.postWithProofs(v)
		}
		p, err := s.Proof(http.MethodPost, endpoint, "")
		if err != nil {
			t.Fatal(err)
		}
		return f.postWithProofs(v, p)
	}
	for _, other := range []*dpop.Signer{nil, thief} {
		if resp, body := refreshWith(other); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
			t.Fatalf("refresh without the bound key: %d %v, want 400 invalid_dpop_proof", resp.StatusCode, body)
		}
	}
	resp, body = refreshWith(s)
	if resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("refresh with the bound key: %d %v", resp.StatusCode, body)
	}
	claims := f.mustVerify(body["access_token"].(string))
	if cnf, _ := claims["cnf"].(map[string]any); cnf == nil || cnf["jkt"] != s.Thumbprint() {
		t.Fatalf("refreshed token cnf %v, want jkt %s", claims["cnf"], s.Thumbprint())
	}
}

func TestDiscoveryListsDPoPAlgs(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	_, raw := f.do(http.MethodGet, PathOpenIDConfiguration, "", "", nil)
	var d struct {
		Algs []string `json:"dpop_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(raw, &d); err != nil || len(d.Algs) == 0 {
		t.Fatalf("dpop_signing_alg_values_supported: %v (%v)", d.Algs, err)
	}
	for _, a := range d.Algs {
		if !dpop.Supported(a) {
			t.Errorf("advertised alg %q is not one the tenant verifies", a)
		}
	}
}

// TestUserinfoDPoPBoundTokens: /userinfo must not accept a DPoP-bound access token as a Bearer token (RFC 9449
// §7.1): it takes it only with the DPoP scheme and a proof for this request, made by the bound key, whose ath is
// the token's hash. An unbound token is not sent with the DPoP scheme.
func TestUserinfoDPoPBoundTokens(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	s, thief := newDPoPSigner(t), newDPoPSigner(t)
	login := func(bind *dpop.Signer) string {
		verifier, challenge := pkce()
		params := nativeRequest(challenge, "openid profile")
		q := f.browser().signIn(params, "alice", "alice-password")
		var proofs []string
		if bind != nil {
			p, err := bind.Proof(http.MethodPost, f.issuer+PathToken[1:], "")
			if err != nil {
				t.Fatal(err)
			}
			proofs = append(proofs, p)
		}
		resp, body := f.postWithProofs(url.Values{"grant_type": {"authorization_code"}, "client_id": {"native"},
			"code": {q.Get("code")}, "redirect_uri": {params.Get("redirect_uri")}, "code_verifier": {verifier}}, proofs...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("exchange: %d %v", resp.StatusCode, body)
		}
		return body["access_token"].(string)
	}
	bound, bearer := login(s), login(nil)
	userinfo := f.issuer + PathUserinfo[1:]
	proof := func(s *dpop.Signer, method, u, tok string) string {
		p, err := s.Proof(method, u, tok)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, scheme, token string
		proof               func() string
		want                int
	}{
		{"bound token as Bearer", "Bearer", bound, nil, http.StatusUnauthorized},
		{"bound token as Bearer with a proof", "Bearer", bound, func() string { return proof(s, http.MethodGet, userinfo, bound) }, http.StatusUnauthorized},
		{"bound token, DPoP, no proof", "DPoP", bound, nil, http.StatusUnauthorized},
		{"bound token, DPoP, another key's proof", "DPoP", bound, func() string { return proof(thief, http.MethodGet, userinfo, bound) }, http.StatusUnauthorized},
		{"bound token, DPoP, proof without ath", "DPoP", bound, func() string { return proof(s, http.MethodGet, userinfo, "") }, http.StatusUnauthorized},
		{"bound token, DPoP, proof for POST", "DPoP", bound, func() string { return proof(s, http.MethodPost, userinfo, bound) }, http.StatusUnauthorized},
		{"bound token, DPoP, proof for the token endpoint", "DPoP", bound, func() string { return proof(s, http.MethodGet, f.issuer+PathToken[1:], bound) }, http.StatusUnauthorized},
		{"bound token, DPoP, valid proof", "DPoP", bound, func() string { return proof(s, http.MethodGet, userinfo, bound) }, http.StatusOK},
		{"Bearer token as Bearer", "Bearer", bearer, nil, http.StatusOK},
		{"Bearer token with the DPoP scheme", "DPoP", bearer, func() string { return proof(s, http.MethodGet, userinfo, bearer) }, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Authorization": {tc.scheme + " " + tc.token}}
			if tc.proof != nil {
				h.Set("DPoP", tc.proof())
			}
			resp, raw := f.do(http.MethodGet, PathUserinfo, "", "", h)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, raw)
			}
			if tc.want == http.StatusOK {
				var body map[string]any
				if err := json.Unmarshal(raw, &body); err != nil || body["sub"] != "auth0|alice" {
					t.Fatalf("body %s", raw)
				}
				return
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("no WWW-Authenticate challenge")
			}
		})
	}
}
