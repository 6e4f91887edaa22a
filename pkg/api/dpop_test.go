package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/teststack"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/dpop"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// dpopStack is the real API (apiserver wiring, router, validator) in front of a real stand-in tenant.
type dpopStack struct {
	tenant *httptest.Server
	api    *httptest.Server
	v      *auth.Validator
}

func newDPoPStack(t *testing.T, edit func(*auth.Config)) *dpopStack {
	t.Helper()
	ten, _ := teststack.Tenant(t, tenant.Options{})
	srv, v := teststack.API(t, ten.URL+"/", teststack.APIOptions{Auth: edit})
	return &dpopStack{tenant: ten, api: srv, v: v}
}

// mint asks the tenant's /dev/mint for a token with the given claim overrides.
func mint(t testing.TB, tenantURL string, claims map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"claims": claims})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(tenantURL+"/dev/mint", "application/json", bytes.NewReader(body)) //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("mint: %d %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signer(t testing.TB, k *ecdsa.PrivateKey) *dpop.Signer {
	t.Helper()
	s, err := dpop.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func proof(t testing.TB, s *dpop.Signer, method, url, token string, opts ...dpop.ProofOption) string {
	t.Helper()
	p, err := s.Proof(method, url, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// forge signs a proof with golang-jwt from arbitrary header and claims.
func forge(t testing.TB, m jwt.SigningMethod, key any, header, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, jwt.MapClaims(claims))
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type answer struct {
	status     int
	challenges []httpcall.Challenge
	body       map[string]any
}

func send(t testing.TB, method, url string, h http.Header) answer {
	t.Helper()
	resp, raw := testhttp.Send(t, method, url, h, "")
	a := answer{status: resp.StatusCode}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &a.body)
	}
	var err error
	if a.challenges, err = httpcall.Challenges(resp.Header); err != nil {
		t.Fatalf("WWW-Authenticate %q: %v", resp.Header.Values("WWW-Authenticate"), err)
	}
	return a
}

func (a answer) challenge(scheme string) (httpcall.Challenge, bool) {
	for _, c := range a.challenges {
		if c.Is(scheme) {
			return c, true
		}
	}
	return httpcall.Challenge{}, false
}

// check asserts the status, which scheme's challenge carries which error ("" for none), that the challenge of the
// scheme with the error comes first, and that every challenge points at the resource metadata.
func (a answer) check(t *testing.T, status int, errScheme, errCode string, schemes []string, metadata string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %v", a.status, status, a.body)
	}
	if status == http.StatusOK {
		if len(a.challenges) != 0 {
			t.Errorf("200 with challenges %v", a.challenges)
		}
		return
	}
	var got []string
	for _, c := range a.challenges {
		got = append(got, strings.ToLower(c.Scheme))
		if rm, _ := c.Param("resource_metadata"); rm != metadata {
			t.Errorf("%s challenge resource_metadata %q, want %q", c.Scheme, rm, metadata)
		}
		code, has := c.Param("error")
		switch {
		case c.Is(errScheme) && code != errCode:
			t.Errorf("%s challenge error %q, want %q (%v)", c.Scheme, code, errCode, c)
		case !c.Is(errScheme) && has:
			t.Errorf("%s challenge has error %q; only %s should (%v)", c.Scheme, code, errScheme, c)
		}
		if c.Is("DPoP") {
			if algs, _ := c.Param("algs"); algs != "ES256 RS256 PS256" {
				t.Errorf("DPoP algs %q", algs)
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(schemes, " ") {
		t.Errorf("challenges %v, want schemes %v in this order", got, schemes)
	}
	if errCode != "" && a.body["error"] != errCode {
		t.Errorf("body error %v, want %s", a.body["error"], errCode)
	}
}

func TestDPoPAllowed(t *testing.T) {
	st := newDPoPStack(t, nil)
	key, other := newKey(t), newKey(t)
	s, so := signer(t, key), signer(t, other)
	bound := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}})
	boundNoScope := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}, "scope": "write:messages"})
	expired := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}, "exp": time.Now().Add(-time.Hour).Unix()})
	plain := mint(t, st.tenant.URL, nil)
	private := st.api.URL + "/api/private"
	scoped := st.api.URL + "/api/private-scoped"
	metadata := st.api.URL + api.ResourceMetadataPath
	jwk := s.PublicJWK()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"jti": rand.Text(), "htm": "GET", "htu": private, "iat": time.Now().Unix(), "ath": dpop.ATH(bound)}
		if edit != nil {
			edit(c)
		}
		return c
	}
	hdr := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "jwk": jwk}
		if edit != nil {
			edit(h)
		}
		return h
	}
	withD := func(h map[string]any) {
		priv := s.PublicJWK()
		raw, _ := key.Bytes()
		priv["d"] = base64.RawURLEncoding.EncodeToString(raw)
		h["jwk"] = priv
	}
	dp := func(token string, proofs ...string) http.Header {
		return http.Header{"Authorization": {"DPoP " + token}, "DPoP": proofs}
	}
	both := []string{"dpop", "bearer"}
	bearerFirst := []string{"bearer", "dpop"}
	replayed := proof(t, s, "GET", private, bound)

	tests := []struct {
		name     string
		url      string
		header   func() http.Header
		status   int
		scheme   string // the challenge carrying the error
		code     string
		schemes  []string
		preflush func() // a request made first (replay)
	}{
		{name: "bound token with its proof", url: private, header: func() http.Header { return dp(bound, proof(t, s, "GET", private, bound)) }, status: 200},
		{name: "scheme any case", url: private, header: func() http.Header {
			return http.Header{"Authorization": {"dpop " + bound}, "DPoP": {proof(t, s, "GET", private, bound)}}
		}, status: 200},
		{name: "request query ignored by htu", url: private + "?page=2", header: func() http.Header { return dp(bound, proof(t, s, "GET", private, bound)) }, status: 200},
		{name: "scoped route with scope", url: scoped, header: func() http.Header { return dp(bound, proof(t, s, "GET", scoped, bound)) }, status: 200},
		{name: "scoped route without scope", url: scoped, header: func() http.Header { return dp(boundNoScope, proof(t, s, "GET", scoped, boundNoScope)) },
			status: 403, scheme: "DPoP", code: "insufficient_scope", schemes: both},
		{name: "plain bearer still fine", url: private, header: func() http.Header { return http.Header{"Authorization": {"Bearer " + plain}} }, status: 200},
		{name: "bound token as bearer", url: private, header: func() http.Header { return http.Header{"Authorization": {"Bearer " + bound}} },
			status: 401, scheme: "Bearer", code: "invalid_token", schemes: bearerFirst},
		{name: "bound token as bearer with a proof too", url: private, header: func() http.Header {
			return http.Header{"Authorization": {"Bearer " + bound}, "DPoP": {proof(t, s, "GET", private, bound)}}
		}, status: 401, scheme: "Bearer", code: "invalid_token", schemes: bearerFirst},
		{name: "no proof", url: private, header: func() http.Header { return dp(bound) }, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "two proofs", url: private, header: func() http.Header {
			return dp(bound, proof(t, s, "GET", private, bound), proof(t, s, "GET", private, bound))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "htm other method", url: private, header: func() http.Header { return dp(bound, proof(t, s, "POST", private, bound)) },
			status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "htu other route", url: private, header: func() http.Header { return dp(bound, proof(t, s, "GET", st.api.URL+"/secured/ping", bound)) },
			status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "htu other host", url: private, header: func() http.Header {
			return dp(bound, proof(t, s, "GET", "https://api.example.com/api/private", bound))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "iat too old", url: private, header: func() http.Header {
			return dp(bound, proof(t, s, "GET", private, bound, dpop.WithIssuedAt(time.Now().Add(-2*time.Minute))))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "iat in the future", url: private, header: func() http.Header {
			return dp(bound, proof(t, s, "GET", private, bound, dpop.WithIssuedAt(time.Now().Add(time.Minute))))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "replayed proof", url: private, preflush: func() {
			if a := send(t, "GET", private, dp(bound, replayed)); a.status != http.StatusOK {
				t.Fatalf("first use of the proof: %d %v", a.status, a.body)
			}
		},
			header: func() http.Header { return dp(bound, replayed) }, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "ath missing", url: private, header: func() http.Header { return dp(bound, proof(t, s, "GET", private, "")) },
			status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "ath of another token", url: private, header: func() http.Header { return dp(bound, proof(t, s, "GET", private, plain)) },
			status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "proof by another key", url: private, header: func() http.Header { return dp(bound, proof(t, so, "GET", private, bound)) },
			status: 401, scheme: "DPoP", code: "invalid_token", schemes: both},
		{name: "unbound token with DPoP scheme", url: private, header: func() http.Header { return dp(plain, proof(t, s, "GET", private, plain)) },
			status: 401, scheme: "DPoP", code: "invalid_token", schemes: both},
		{name: "expired bound token", url: private, header: func() http.Header { return dp(expired, proof(t, s, "GET", private, expired)) },
			status: 401, scheme: "DPoP", code: "invalid_token", schemes: both},
		{name: "typ JWT", url: private, header: func() http.Header {
			return dp(bound, forge(t, jwt.SigningMethodES256, key, hdr(func(h map[string]any) { h["typ"] = "JWT" }), claims(nil)))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "alg none", url: private, header: func() http.Header {
			return dp(bound, forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr(nil), claims(nil)))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "alg HS256", url: private, header: func() http.Header {
			return dp(bound, forge(t, jwt.SigningMethodHS256, []byte("k"), hdr(nil), claims(nil)))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "private key in jwk", url: private, header: func() http.Header {
			return dp(bound, forge(t, jwt.SigningMethodES256, key, hdr(withD), claims(nil)))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "signature by another key", url: private, header: func() http.Header {
			return dp(bound, forge(t, jwt.SigningMethodES256, other, hdr(nil), claims(nil)))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "jti missing", url: private, header: func() http.Header {
			return dp(bound, forge(t, jwt.SigningMethodES256, key, hdr(nil), claims(func(c map[string]any) { delete(c, "jti") })))
		}, status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "proof not a JWS", url: private, header: func() http.Header { return dp(bound, "not-a-proof") },
			status: 401, scheme: "DPoP", code: "invalid_dpop_proof", schemes: both},
		{name: "no credentials", url: private, header: func() http.Header { return nil }, status: 401, schemes: bearerFirst},
		{name: "proof alone", url: private, header: func() http.Header { return http.Header{"DPoP": {proof(t, s, "GET", private, bound)}} },
			status: 401, schemes: bearerFirst},
		{name: "DPoP token and access_token query", url: private + "?access_token=x", header: func() http.Header {
			return dp(bound, proof(t, s, "GET", private, bound))
		}, status: 400, scheme: "DPoP", code: "invalid_request", schemes: both},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.preflush != nil {
				tc.preflush()
			}
			a := send(t, "GET", tc.url, tc.header())
			a.check(t, tc.status, tc.scheme, tc.code, tc.schemes, metadata)
		})
	}
}

func TestDPoPRequired(t *testing.T) {
	st := newDPoPStack(t, func(c *auth.Config) { c.DPoP.Mode = auth.DPoPRequired })
	s := signer(t, newKey(t))
	bound := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}})
	plain := mint(t, st.tenant.URL, nil)
	private := st.api.URL + "/api/private"
	metadata := st.api.URL + api.ResourceMetadataPath
	only := []string{"dpop"}
	tests := []struct {
		name   string
		header http.Header
		status int
		code   string
	}{
		{"bound token with its proof", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {proof(t, s, "GET", private, bound)}}, 200, ""},
		{"plain bearer refused", http.Header{"Authorization": {"Bearer " + plain}}, 401, "invalid_token"},
		{"bound token as bearer refused", http.Header{"Authorization": {"Bearer " + bound}}, 401, "invalid_token"},
		{"no credentials", nil, 401, ""},
		{"no proof", http.Header{"Authorization": {"DPoP " + bound}}, 401, "invalid_dpop_proof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			send(t, "GET", private, tc.header).check(t, tc.status, "DPoP", tc.code, only, metadata)
		})
	}
	doc := send(t, "GET", st.api.URL+api.ResourceMetadataPath, nil)
	if doc.status != 200 || doc.body["dpop_bound_access_tokens_required"] != true {
		t.Fatalf("metadata in required mode: %d %v", doc.status, doc.body)
	}
}

func TestDPoPDisabled(t *testing.T) {
	st := newDPoPStack(t, func(c *auth.Config) { c.DPoP.Mode = auth.DPoPDisabled })
	s := signer(t, newKey(t))
	bound := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}})
	plain := mint(t, st.tenant.URL, nil)
	private := st.api.URL + "/api/private"
	metadata := st.api.URL + api.ResourceMetadataPath
	only := []string{"bearer"}
	tests := []struct {
		name   string
		header http.Header
		status int
		code   string
	}{
		{"plain bearer", http.Header{"Authorization": {"Bearer " + plain}}, 200, ""},
		{"DPoP scheme is unknown", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {proof(t, s, "GET", private, bound)}}, 401, ""},
		{"bound token as bearer refused", http.Header{"Authorization": {"Bearer " + bound}}, 401, "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			send(t, "GET", private, tc.header).check(t, tc.status, "Bearer", tc.code, only, metadata)
		})
	}
	doc := send(t, "GET", st.api.URL+api.ResourceMetadataPath, nil)
	if _, ok := doc.body["dpop_signing_alg_values_supported"]; ok || doc.status != 200 {
		t.Fatalf("metadata with DPoP disabled lists DPoP algs: %d %v", doc.status, doc.body)
	}
}

// TestDPoPCacheNeverSkipsTheProof: once a bound token's validation is cached, every later request still needs its
// own valid proof by the bound key; the cache hit counter shows the token really came from the cache.
func TestDPoPCacheNeverSkipsTheProof(t *testing.T) {
	st := newDPoPStack(t, nil)
	s, so := signer(t, newKey(t)), signer(t, newKey(t))
	bound := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}})
	private := st.api.URL + "/api/private"
	first := proof(t, s, "GET", private, bound)
	steps := []struct {
		name   string
		header http.Header
		status int
	}{
		{"first request fills the cache", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {first}}, 200},
		{"no proof", http.Header{"Authorization": {"DPoP " + bound}}, 401},
		{"same proof again", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {first}}, 401},
		{"proof by another key", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {proof(t, so, "GET", private, bound)}}, 401},
		{"as bearer", http.Header{"Authorization": {"Bearer " + bound}}, 401},
		{"proof for another URL", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {proof(t, s, "GET", st.api.URL+"/secured/ping", bound)}}, 401},
		{"fresh proof", http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {proof(t, s, "GET", private, bound)}}, 200},
	}
	for _, step := range steps {
		if a := send(t, "GET", private, step.header); a.status != step.status {
			t.Fatalf("%s: status %d, want %d (%v)", step.name, a.status, step.status, a.body)
		}
	}
	if hits := metric(t, st.api.URL, "tokencheck_token_cache_hits_total"); hits < 4 {
		t.Fatalf("cache hits %v: the later requests did not come from the cache, so the test proves nothing", hits)
	}
}

// metric reads one counter from /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics") //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if err := json.Unmarshal([]byte(rest), &f); err == nil {
				return f
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestDPoPPublicURLAndProxy(t *testing.T) {
	const public = "https://api.example.com"
	tests := []struct {
		name     string
		edit     func(*auth.Config)
		header   http.Header
		htu      func(apiURL string) string
		status   int
		metadata func(apiURL string) string
	}{
		{name: "request host by default", htu: func(u string) string { return u + "/api/private" }, status: 200,
			metadata: func(u string) string { return u + api.ResourceMetadataPath }},
		{name: "PUBLIC_URL wins", edit: func(c *auth.Config) { c.PublicURL = public },
			htu: func(string) string { return public + "/api/private" }, status: 200,
			metadata: func(string) string { return public + api.ResourceMetadataPath }},
		{name: "PUBLIC_URL refuses the request host", edit: func(c *auth.Config) { c.PublicURL = public },
			htu: func(u string) string { return u + "/api/private" }, status: 401,
			metadata: func(string) string { return public + api.ResourceMetadataPath }},
		{name: "forwarded headers ignored without TRUST_PROXY",
			header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com"}},
			htu:    func(string) string { return public + "/api/private" }, status: 401,
			metadata: func(u string) string { return u + api.ResourceMetadataPath }},
		{name: "forwarded headers with TRUST_PROXY", edit: func(c *auth.Config) { c.TrustProxy = true },
			header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com, inner.local"}},
			htu:    func(string) string { return public + "/api/private" }, status: 200,
			metadata: func(string) string { return public + api.ResourceMetadataPath }},
		{name: "TRUST_PROXY without headers uses the request", edit: func(c *auth.Config) { c.TrustProxy = true },
			htu: func(u string) string { return u + "/api/private" }, status: 200,
			metadata: func(u string) string { return u + api.ResourceMetadataPath }},
		{name: "hostile forwarded host never reaches the challenge", edit: func(c *auth.Config) { c.TrustProxy = true },
			header: http.Header{"X-Forwarded-Host": {`evil.example/"x`}},
			htu:    func(u string) string { return u + "/api/private" }, status: 401,
			metadata: func(string) string { return "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newDPoPStack(t, tc.edit)
			s := signer(t, newKey(t))
			bound := mint(t, st.tenant.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}})
			h := http.Header{"Authorization": {"DPoP " + bound}, "DPoP": {proof(t, s, "GET", tc.htu(st.api.URL), bound)}}
			for k, v := range tc.header {
				h[k] = v
			}
			a := send(t, "GET", st.api.URL+"/api/private", h)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", a.status, tc.status, a.body)
			}
			// The metadata pointer follows the same base URL, on a request that is refused either way.
			refused := send(t, "GET", st.api.URL+"/api/private", tc.header)
			c, ok := refused.challenge("Bearer")
			rm, _ := c.Param("resource_metadata")
			if !ok || rm != tc.metadata(st.api.URL) {
				t.Fatalf("resource_metadata %q, want %q", rm, tc.metadata(st.api.URL))
			}
		})
	}
}

// TestSeveralIssuers: two tenants, each token validated against its own issuer's keys; a token from a third,
// unconfigured issuer is refused as bad_issuer without any request to any key set.
func TestSeveralIssuers(t *testing.T) {
	var fetches atomic.Int64
	one, two, third := countingTenant(t, &fetches), countingTenant(t, &fetches), countingTenant(t, &fetches)
	srv, v := teststack.API(t, one.URL+"/", teststack.APIOptions{Auth: func(c *auth.Config) { c.Issuers = []string{two.URL + "/"} }})
	if got := v.Issuers(); len(got) != 2 || got[0] != one.URL+"/" || got[1] != two.URL+"/" {
		t.Fatalf("issuers %v", got)
	}
	s := signer(t, newKey(t))
	private := srv.URL + "/api/private"
	// First, while every refetch limiter is still full: the third issuer's token names a kid no configured key set
	// has, so picking a key set by anything but its iss would refetch one (the request waits for that refetch).
	thirdOnly := mint(t, third.URL, nil)
	mid := fetches.Load()
	if a := send(t, "GET", private, http.Header{"Authorization": {"Bearer " + thirdOnly}}); a.status != http.StatusUnauthorized {
		t.Fatalf("unconfigured issuer: %d", a.status)
	}
	if n := fetches.Load() - mid; n != 0 {
		t.Fatalf("a token of an unconfigured issuer caused %d key set requests", n)
	}
	tests := []struct {
		name   string
		token  string
		dpop   bool
		status int
		code   string
	}{
		{name: "first issuer", token: mint(t, one.URL, nil), status: 200},
		{name: "second issuer", token: mint(t, two.URL, nil), status: 200},
		{name: "second issuer, DPoP-bound", token: mint(t, two.URL, map[string]any{"cnf": map[string]any{"jkt": s.Thumbprint()}}), dpop: true, status: 200},
		{name: "third issuer refused", token: mint(t, third.URL, nil), status: 401, code: "invalid_token"},
		{name: "second's token claiming the first issuer", token: mint(t, two.URL, map[string]any{"iss": one.URL + "/"}), status: 401, code: "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer " + tc.token}}
			if tc.dpop {
				h = http.Header{"Authorization": {"DPoP " + tc.token}, "DPoP": {proof(t, s, "GET", private, tc.token)}}
			}
			a := send(t, "GET", private, h)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", a.status, tc.status, a.body)
			}
			if tc.code != "" && a.body["error"] != tc.code {
				t.Fatalf("error %v, want %s", a.body["error"], tc.code)
			}
		})
	}
	doc := send(t, "GET", srv.URL+api.ResourceMetadataPath, nil)
	servers, _ := doc.body["authorization_servers"].([]any)
	if len(servers) != 2 || servers[0] != one.URL+"/" || servers[1] != two.URL+"/" {
		t.Fatalf("authorization_servers %v", doc.body["authorization_servers"])
	}
}

// countingTenant is a stand-in tenant that counts every request except /dev/ ones (discovery and JWKS fetches).
func countingTenant(t *testing.T, n *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	tn, err := tenant.New(tenant.DefaultConfig(), tenant.Options{Issuer: "http://" + srv.Listener.Addr().String() + "/"})
	if err != nil {
		t.Fatal(err)
	}
	h := tn.Handler()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/dev/") {
			n.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}
