package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/internal/testissuer"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

func TestChallenges(t *testing.T) {
	const rm = `, resource_metadata="https://api.example/.well-known/oauth-protected-resource"`
	noToken := answer(errors.New("x"))
	noToken.challenge, noToken.code, noToken.desc = challenge(), "", ""
	expired := answer(&ValidationError{Reason: ReasonExpired})
	scope := answer(&ScopeError{Scope: "read:messages"})
	proof := answer(&ValidationError{Reason: ReasonDPoPProof, Err: &dpop.Error{Kind: dpop.ErrURL, Reason: "htu is not the request URL"}})
	unavailable := answer(&ValidationError{Reason: ReasonKeysUnavailable, Err: ErrKeysUnavailable})
	tests := []struct {
		name   string
		mode   DPoPMode
		a      response
		scheme Scheme
		meta   bool
		want   []string
	}{
		{"no token, allowed", DPoPAllowed, noToken, SchemeBearer, true,
			[]string{`Bearer realm="api"` + rm, `DPoP realm="api", algs="ES256 RS256 PS256"` + rm}},
		{"no token, required", DPoPRequired, noToken, SchemeBearer, true, []string{`DPoP realm="api", algs="ES256 RS256 PS256"` + rm}},
		{"no token, disabled", DPoPDisabled, noToken, SchemeBearer, true, []string{`Bearer realm="api"` + rm}},
		{"no metadata path", DPoPDisabled, noToken, SchemeBearer, false, []string{`Bearer realm="api"`}},
		{"bearer error stays on Bearer", DPoPAllowed, expired, SchemeBearer, true, []string{
			`Bearer realm="api", error="invalid_token", error_description="token is expired"` + rm,
			`DPoP realm="api", algs="ES256 RS256 PS256"` + rm}},
		{"DPoP request: error on DPoP, which comes first", DPoPAllowed, expired, SchemeDPoP, true, []string{
			`DPoP realm="api", algs="ES256 RS256 PS256", error="invalid_token", error_description="token is expired"` + rm,
			`Bearer realm="api"` + rm}},
		{"proof error names the rule", DPoPAllowed, proof, SchemeDPoP, false, []string{
			`DPoP realm="api", algs="ES256 RS256 PS256", error="invalid_dpop_proof", error_description="DPoP proof: htu is not the request URL"`,
			`Bearer realm="api"`}},
		{"scope on DPoP", DPoPRequired, scope, SchemeDPoP, false, []string{
			`DPoP realm="api", algs="ES256 RS256 PS256", error="insufficient_scope", error_description="token lacks the required scope", scope="read:messages"`}},
		{"503 has none", DPoPAllowed, unavailable, SchemeBearer, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &Validator{cfg: Config{DPoP: DPoPConfig{Mode: tc.mode}}}
			if tc.mode != DPoPDisabled {
				v.dpop = dpop.NewVerifier(dpop.VerifierOptions{})
			}
			if tc.meta {
				v.cfg.ResourceMetadataPath = "/.well-known/oauth-protected-resource"
			}
			got := v.challenges(tc.a, tc.scheme, "https://api.example")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("challenges\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		host   string
		tls    bool
		header map[string]string
		want   string
	}{
		{name: "request host", host: "api.local:3010", want: "http://api.local:3010"},
		{name: "TLS", host: "api.local", tls: true, want: "https://api.local"},
		{name: "public URL wins", cfg: Config{PublicURL: "https://api.example.com"}, host: "10.0.0.1:3010",
			header: map[string]string{"X-Forwarded-Host": "evil"}, want: "https://api.example.com"},
		{name: "forwarded ignored by default", host: "api.local", header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
			want: "http://api.local"},
		{name: "forwarded trusted", cfg: Config{TrustProxy: true}, host: "10.0.0.1:3010",
			header: map[string]string{"X-Forwarded-Proto": "HTTPS, http", "X-Forwarded-Host": "api.example.com, 10.0.0.1"}, want: "https://api.example.com"},
		{name: "odd forwarded proto ignored", cfg: Config{TrustProxy: true}, host: "api.local", header: map[string]string{"X-Forwarded-Proto": "gopher"},
			want: "http://api.local"},
		{name: "IPv6 host", host: "[::1]:3010", want: "http://[::1]:3010"},
		{name: "hostile host", host: `a"b`, want: ""},
		{name: "hostile forwarded host", cfg: Config{TrustProxy: true}, host: "api.local", header: map[string]string{"X-Forwarded-Host": "a/b@c"}, want: ""},
		{name: "empty host", host: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &Validator{cfg: tc.cfg}
			r := httptest.NewRequest(http.MethodGet, "/api/private?x=1", nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, val := range tc.header {
				r.Header.Set(k, val)
			}
			if got := v.BaseURL(r); got != tc.want {
				t.Fatalf("BaseURL = %q, want %q", got, tc.want)
			}
			wantURL := ""
			if tc.want != "" {
				wantURL = tc.want + "/api/private"
			}
			if got := v.RequestURL(r); got != wantURL {
				t.Fatalf("RequestURL = %q, want %q", got, wantURL)
			}
		})
	}
}

func TestConfigDPoPAndIssuers(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" when valid
		want  error
	}{
		{name: "defaults", edit: func(*Config) {}},
		{name: "several issuers", edit: func(c *Config) { c.Issuers = []string{"https://b.example/", "https://a.example/"} }},
		{name: "issuers only", edit: func(c *Config) { c.Issuer, c.Issuers = "", []string{"https://b.example/"} }},
		{name: "no issuer", edit: func(c *Config) { c.Issuer = "" }, field: "Issuer", want: ErrEmpty},
		{name: "bad extra issuer", edit: func(c *Config) { c.Issuers = []string{"b.example"} }, field: "Issuer", want: ErrNotAbsoluteURL},
		{name: "JWKS URL with several issuers", edit: func(c *Config) {
			c.Issuers, c.JWKSURL = []string{"https://b.example/"}, "https://a.example/jwks"
		}, field: "JWKSURL", want: ErrJWKSURLSeveralIssuers},
		{name: "JWKS URL with a duplicate issuer is one issuer", edit: func(c *Config) {
			c.Issuers, c.JWKSURL = []string{"https://a.example/"}, "https://a.example/jwks"
		}},
		{name: "bad mode", edit: func(c *Config) { c.DPoP.Mode = "sometimes" }, field: "DPoP.Mode", want: ErrDPoPMode},
		{name: "HMAC alg", edit: func(c *Config) { c.DPoP.Algs = []string{"ES256", "HS256"} }, field: "DPoP.Algs", want: ErrDPoPAlg},
		{name: "none alg", edit: func(c *Config) { c.DPoP.Algs = []string{"none"} }, field: "DPoP.Algs", want: ErrDPoPAlg},
		{name: "negative window", edit: func(c *Config) { c.DPoP.IATWindow = -1 }, field: "DPoP.IATWindow", want: ErrNegative},
		{name: "public URL with path", edit: func(c *Config) { c.PublicURL = "https://api.example/v1" }, field: "PublicURL", want: ErrURLPath},
		{name: "public URL with query", edit: func(c *Config) { c.PublicURL = "https://api.example/?a" }, field: "PublicURL", want: ErrURLExtras},
		{name: "public URL relative", edit: func(c *Config) { c.PublicURL = "api.example" }, field: "PublicURL", want: ErrNotAbsoluteURL},
		{name: "public URL trailing slash", edit: func(c *Config) { c.PublicURL = "https://api.example/" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Issuer: "https://a.example/", Audiences: []string{"api"}}
			tc.edit(&c)
			err := c.validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				if c.DPoP.Mode != DPoPAllowed || c.Issuer != c.Issuers[0] || strings.HasSuffix(c.PublicURL, "/") {
					t.Fatalf("defaults not applied: %+v", c)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, tc.want) {
				t.Fatalf("validate = %v, want %s %v", err, tc.field, tc.want)
			}
		})
	}
}

// TestReadyNeedsEveryIssuer: with two issuers, the validator is ready only once both key sets have loaded, and
// each issuer's tokens verify against its own keys only.
func TestReadyNeedsEveryIssuer(t *testing.T) {
	a, b := testissuer.New(t), testissuer.New(t)
	b.SetDown(true)
	v := newValidator(t, a, func(c *Config) { c.Issuers = []string{b.URL} })
	eventually(t, "first issuer's keys", func() bool { return v.issuers[0].keys.loaded() })
	if v.Ready() {
		t.Fatal("ready with the second issuer's keys missing")
	}
	if _, err := v.Validate(context.Background(), b.Token(t, nil)); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("second issuer's token before its keys: %v, want ErrKeysUnavailable", err)
	}
	if _, err := v.Validate(context.Background(), a.Token(t, nil)); err != nil {
		t.Fatalf("first issuer's token: %v", err)
	}
	b.SetDown(false)
	waitReady(t, v)
	if _, err := v.Validate(context.Background(), b.Token(t, nil)); err != nil {
		t.Fatalf("second issuer's token: %v", err)
	}
	// b's key signing a token that claims a's issuer is checked against a's key set only, so it is refused
	// (both test issuers name their key key-1: a's key does not verify b's signature).
	forged := b.Token(t, func(c map[string]any) { c["iss"] = a.URL })
	if _, err := v.Validate(context.Background(), forged); ReasonOf(err) != ReasonBadSignature && ReasonOf(err) != ReasonUnknownKID {
		t.Fatalf("b-signed token claiming a: %v, want bad_signature or unknown_kid", err)
	}
	other := testissuer.New(t)
	hitsA, hitsB := a.JWKSHits(), b.JWKSHits()
	if _, err := v.Validate(context.Background(), other.Token(t, nil)); ReasonOf(err) != ReasonBadIssuer {
		t.Fatalf("unconfigured issuer: %v, want bad_issuer", err)
	}
	if a.JWKSHits() != hitsA || b.JWKSHits() != hitsB || other.JWKSHits() != 0 {
		t.Fatal("an unconfigured issuer's token caused a key set fetch")
	}
}

func TestValidateCredential(t *testing.T) {
	iss := testissuer.New(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://api.example/api/private"
	bound := iss.Token(t, func(c map[string]any) { c["cnf"] = map[string]any{"jkt": s.Thumbprint()} })
	mtls := iss.Token(t, func(c map[string]any) { c["cnf"] = map[string]any{"x5t#S256": "abc"} })
	plain := iss.Token(t, nil)
	mk := func(token string) []string {
		p, err := s.Proof("GET", url, token)
		if err != nil {
			t.Fatal(err)
		}
		return []string{p}
	}
	tests := []struct {
		name string
		mode DPoPMode
		cr   Credential
		want Reason // "" for success
	}{
		{"bound with proof", DPoPAllowed, Credential{Scheme: SchemeDPoP, Token: bound, Proofs: mk(bound), Method: "GET", URL: url}, ""},
		{"bound as bearer", DPoPAllowed, Credential{Scheme: SchemeBearer, Token: bound}, ReasonBoundAsBearer},
		{"mTLS-bound as bearer", DPoPAllowed, Credential{Scheme: SchemeBearer, Token: mtls}, ReasonBoundAsBearer},
		{"mTLS-bound with DPoP", DPoPAllowed, Credential{Scheme: SchemeDPoP, Token: mtls, Proofs: mk(mtls), Method: "GET", URL: url}, ReasonNotBound},
		{"plain bearer", DPoPAllowed, Credential{Scheme: SchemeBearer, Token: plain}, ""},
		{"plain bearer required", DPoPRequired, Credential{Scheme: SchemeBearer, Token: plain}, ReasonDPoPRequired},
		{"bound as bearer disabled", DPoPDisabled, Credential{Scheme: SchemeBearer, Token: bound}, ReasonBoundAsBearer},
		{"no proof", DPoPAllowed, Credential{Scheme: SchemeDPoP, Token: bound, Method: "GET", URL: url}, ReasonDPoPProof},
		{"blank proof", DPoPAllowed, Credential{Scheme: SchemeDPoP, Token: bound, Proofs: []string{" "}, Method: "GET", URL: url}, ReasonDPoPProof},
		{"wrong URL", DPoPAllowed, Credential{Scheme: SchemeDPoP, Token: bound, Proofs: mk(bound), Method: "GET", URL: url + "x"}, ReasonDPoPProof},
		{"bad token wins over the proof", DPoPAllowed, Credential{Scheme: SchemeDPoP, Token: bound[:len(bound)-8] + "AAAAAAAA", Proofs: mk(bound), Method: "GET", URL: url}, ReasonBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t, iss, func(c *Config) { c.DPoP.Mode = tc.mode })
			waitReady(t, v)
			_, err := v.ValidateCredential(context.Background(), tc.cr)
			if got := ReasonOf(err); got != tc.want {
				t.Fatalf("ValidateCredential: %v (reason %q), want %q", err, got, tc.want)
			}
			if tc.want != "" && a(err).status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", a(err).status)
			}
		})
	}
}

func a(err error) response { return answer(err) }
