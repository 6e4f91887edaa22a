package conformance

import (
	"context"
	"crypto/hmac"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/internal/teststack"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tenant"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

const (
	testAudience = "https://quickstarts/api"
	testScope    = "read:messages"
	testOrigin   = "http://localhost:3000"
	testLeeway   = 3 * time.Second
)

// stack is the stand-in tenant and the project's real API, both in-process on loopback, optionally with the API
// wrapped by a mutation that breaks one thing.
type stack struct {
	issuer, jwksURL, apiURL string
	hc                      *http.Client
	minter                  *tokens.Minter
}

type mutation func(st *stack, next http.Handler) http.Handler

func newStack(t *testing.T, mutate mutation) *stack {
	t.Helper()
	return newStackWith(t, stackOptions{mutate: mutate})
}

// stackOptions vary the real API: a mutation that breaks (or legitimately changes) one thing, another leeway.
type stackOptions struct {
	mutate mutation
	leeway time.Duration // 0 is testLeeway
}

func newStackWith(t *testing.T, o stackOptions) *stack {
	t.Helper()
	mutate := o.mutate
	leeway := o.leeway
	if leeway == 0 {
		leeway = testLeeway
	}
	ten, _ := teststack.Tenant(t, tenant.Options{})
	st := &stack{issuer: ten.URL + "/", jwksURL: ten.URL + "/.well-known/jwks.json", hc: httpcall.NewClient(20 * time.Second)} // rotation generates an RSA key: slow under -race on a busy machine
	st.minter = &tokens.Minter{Endpoint: ten.URL + "/dev/mint", HTTP: st.hc}
	apiSrv, _ := teststack.API(t, st.issuer, teststack.APIOptions{
		Auth: func(c *auth.Config) {
			c.Audiences, c.JWKSURL, c.CacheSize = []string{testAudience}, st.jwksURL, 1000
			c.ClockSkew = leeway // short by default, so the cache case waits seconds rather than the default 30s
		},
		AuthOptions:  []auth.Option{auth.WithUnknownKIDRefetch(50*time.Millisecond, 1, time.Second)},
		Router:       api.Options{RequiredScope: testScope, AllowedOrigins: []string{testOrigin}},
		SelfResource: true,
		Wrap: func(h http.Handler) http.Handler {
			if mutate == nil {
				return h
			}
			return mutate(st, h)
		},
	})
	st.apiURL = apiSrv.URL
	return st
}

func (st *stack) env(t *testing.T) *Env {
	t.Helper()
	env, err := Prepare(t.Context(), Config{
		API: st.apiURL, Issuer: st.issuer, Audience: testAudience, Scope: testScope, Origin: testOrigin, HTTP: st.hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	return env
}

func ids(results []Result, v Verdict) []string {
	var out []string
	for _, r := range results {
		if r.Verdict == v {
			out = append(out, r.Case.ID())
		}
	}
	slices.Sort(out)
	return out
}

func describe(results []Result) string {
	var b strings.Builder
	for _, r := range results {
		if r.Verdict != Pass {
			fmt.Fprintf(&b, "  %s %s: got %d %q: %s\n", r.Verdict, r.Case.ID(), r.Got, r.Challenge, r.Detail)
		}
	}
	return b.String()
}

func TestRealServerPassesEveryCase(t *testing.T) {
	st := newStack(t, nil)
	for _, p := range []Profile{ProfileRFC6750, ProfileAuth0} {
		results := NewRunner(WithProfile(p)).Run(t.Context(), st.env(t))
		if len(results) != len(Matrix()) {
			t.Fatalf("%s: %d results for %d cases", p, len(results), len(Matrix()))
		}
		results = slices.DeleteFunc(results, func(r Result) bool {
			// DPoP's default mode is allowed: the case for APIs that require DPoP-bound tokens has nothing to test.
			return r.Case.ID() == "dpop/bearer-when-required" && r.Verdict == Skip
		})
		if bad := describe(results); bad != "" {
			t.Errorf("profile %s: the project's own server does not pass:\n%s", p, bad)
		}
		if testing.Verbose() {
			var b strings.Builder
			_ = (&Report{API: st.apiURL, Profile: p, Results: results}).WriteTable(&b, false)
			t.Log("\n" + b.String())
		}
	}
}

func TestRealTenantSkipsKeyCases(t *testing.T) {
	st := newStack(t, nil)
	env := st.env(t)
	env.Minter, env.NoScopeToken = nil, "" // as with a real tenant and no --noscope-client-id
	results := NewRunner().Run(t.Context(), env)
	if f := ids(results, Fail); len(f) != 0 {
		t.Errorf("failures without the stand-in tenant:\n%s", describe(results))
	}
	for _, r := range results {
		if r.Case.NeedsKey && (r.Verdict != Skip || r.Detail != needsStandIn) {
			t.Errorf("%s needs the key but got %s %q", r.Case.ID(), r.Verdict, r.Detail)
		}
	}
	want := []string{"cors/on-403", "quickstart/scoped-no-scope", "stateful/scope-leak"}
	for _, c := range Matrix() {
		if c.NeedsKey {
			want = append(want, c.ID())
		}
	}
	slices.Sort(want)
	if got := ids(results, Skip); !slices.Equal(got, want) {
		t.Errorf("skipped %v\nwant %v", got, want)
	}
}

func TestBrokenServersAreFlagged(t *testing.T) {
	t.Parallel()
	invalidToken := func(results []Result) []string {
		var out []string
		for _, r := range results {
			e := r.Case.Expect
			// Where any error code is right (some dpop cases), those the server answered with invalid_token too.
			if e.Status == http.StatusUnauthorized && (e.Error == "invalid_token" || e.AnyError && strings.Contains(r.Challenge, "invalid_token")) {
				out = append(out, r.Case.ID())
			}
		}
		return out
	}
	challenged := func(results []Result) []string {
		var out []string
		for _, r := range results {
			if r.Case.Category != CORS && (r.Got == http.StatusUnauthorized || r.Got == http.StatusForbidden) {
				out = append(out, r.Case.ID())
			}
		}
		return out
	}
	fixed := func(ids ...string) func([]Result) []string { return func([]Result) []string { return ids } }
	tests := []struct {
		name    string
		mutate  mutation
		profile Profile
		want    func(results []Result) []string
		mustHit []string
		skips   []string // sorted
	}{
		{"ignores exp", launder(ignoresExp), ProfileRFC6750, fixed("claims/exp-missing", "claims/exp-null", "claims/exp-string", "claims/expired",
			"claims/leeway-at-most-5m", "stateful/expired-then-valid"), nil, nil},
		{"ignores aud", launder(ignoresAud), ProfileRFC6750, fixed("claims/aud-array-without-api", "claims/aud-missing", "claims/aud-null",
			"claims/aud-wrong", "claims/aud-case", "claims/aud-prefix-match", "claims/aud-suffix-match",
			"claims/aud-trailing-slash", "claims/aud-truncated"), nil, nil},
		{"accepts alg none", launder(acceptsNone), ProfileRFC6750, fixed("forged/alg-NONE", "forged/alg-None",
			"forged/alg-nOnE", "forged/alg-none", "forged/alg-none-signature-kept"), nil, nil},
		{"HS256 keyed with the public key", launder(hsWithPublicKey), ProfileRFC6750, fixed("forged/hs256-public-key-pem"), nil, nil},
		{"trusts jku", launder(trustsJKU), ProfileRFC6750, fixed("forged/jku-attacker-url"), nil, nil},
		{"substring scope", launder(substringScope), ProfileRFC6750,
			fixed("claims/scope-comma-list", "claims/scope-superstring"), nil, nil},
		{"preflight needs a token", preflightNeedsToken, ProfileRFC6750, fixed("cors/preflight"), nil, nil},
		{"500 on a bad header", serverErrorOnBinary, ProfileRFC6750, fixed("forged/binary-bytes"), nil, nil},
		{"403 for an invalid token", invalidAs403, ProfileAuth0, invalidToken,
			[]string{"quickstart/bad-signature", "forged/alg-none", "claims/expired"}, nil},
		{"missing challenge", stripChallenge, ProfileRFC6750, challenged,
			[]string{"quickstart/no-header", "quickstart/invalid-token", "claims/scope-case", "rfc6750/token-in-query-only"}, nil},
		{"missing challenge, auth0 profile", stripChallenge, ProfileAuth0, fixed(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newStack(t, tt.mutate)
			results := NewRunner(WithProfile(tt.profile)).Run(t.Context(), st.env(t))
			want := tt.want(results)
			slices.Sort(want)
			if got := ids(results, Fail); !slices.Equal(got, want) {
				t.Errorf("failed cases\n got %v\nwant %v\n%s", got, want, describe(results))
			}
			// DPoP's default mode, allowed: the case for APIs that require DPoP skips.
			if s, want := ids(results, Skip), sorted(append(tt.skips, "dpop/bearer-when-required")); !slices.Equal(s, want) {
				t.Errorf("skipped %v, want %v\n%s", s, want, describe(results))
			}
			for _, id := range tt.mustHit {
				if !slices.Contains(want, id) {
					t.Errorf("expected set lacks %s: %v", id, want)
				}
			}
		})
	}
}

// launder wraps the real API: when accept says a lenient server would take the request's token, the token is
// replaced by one the tenant mints with the same header and claims except the fix, and the real API judges that.
// It models a server with exactly one check removed while every other behaviour stays the real one.
func launder(accept func(st *stack, r *http.Request, tok string, h, c map[string]any) (fix map[string]any, ok bool)) mutation {
	return func(st *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
			if !found || !strings.EqualFold(scheme, "Bearer") {
				next.ServeHTTP(w, r)
				return
			}
			h, c, err := tokens.DecodeUnverified(tok)
			if err != nil {
				next.ServeHTTP(w, r)
				return
			}
			fix, ok := accept(st, r, tok, h, c)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			header := map[string]any{"typ": nil}
			for k, v := range h {
				switch k {
				case "alg", "kid", "jku", "x5u", "jwk", "x5c":
				default:
					header[k] = v
				}
			}
			claims := map[string]any{}
			for _, k := range []string{"iss", "iat", "exp", "jti", "sub", "azp", "gty", "aud", "scope"} {
				claims[k] = nil
			}
			for k, v := range with(c, fix) {
				claims[k] = v
			}
			fresh, err := st.minter.Mint(r.Context(), header, claims)
			if err != nil {
				http.Error(w, "launder: "+err.Error(), http.StatusBadGateway)
				return
			}
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+fresh)
			next.ServeHTTP(w, r)
		})
	}
}

// verifiedByTenant checks tok's RS256 signature against the tenant's published key named by its kid.
func verifiedByTenant(ctx context.Context, st *stack, tok string, h map[string]any) bool {
	if h["alg"] != "RS256" {
		return false
	}
	return verifiedBy(ctx, st.hc, st.jwksURL, tok, h)
}

func verifiedBy(ctx context.Context, hc *http.Client, jwksURL, tok string, h map[string]any) bool {
	keys, err := fetchJWKS(ctx, hc, jwksURL)
	if err != nil {
		return false
	}
	i := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	for _, k := range keys {
		if k.Kid == h["kid"] && k.rsa != nil {
			return jwt.SigningMethodRS256.Verify(tok[:i], sig, k.rsa) == nil
		}
	}
	return false
}

func ignoresExp(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
	exp, err := jwt.MapClaims(c).GetExpirationTime()
	expired := err != nil || exp == nil || time.Until(exp.Time) < -30*time.Second
	if !expired || !verifiedByTenant(r.Context(), st, tok, h) {
		return nil, false
	}
	return map[string]any{"exp": time.Now().Add(time.Hour).Unix()}, true
}

func ignoresAud(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
	aud, _ := jwt.MapClaims(c).GetAudience()
	if slices.Contains(aud, testAudience) || !verifiedByTenant(r.Context(), st, tok, h) {
		return nil, false
	}
	return map[string]any{"aud": testAudience}, true
}

func acceptsNone(_ *stack, _ *http.Request, _ string, h, _ map[string]any) (map[string]any, bool) {
	alg, _ := h["alg"].(string)
	return nil, strings.EqualFold(alg, "none")
}

func hsWithPublicKey(st *stack, r *http.Request, tok string, h, _ map[string]any) (map[string]any, bool) {
	if h["alg"] != "HS256" {
		return nil, false
	}
	keys, err := fetchJWKS(r.Context(), st.hc, st.jwksURL)
	if err != nil {
		return nil, false
	}
	i := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return nil, false
	}
	for _, k := range keys {
		if k.Kid != h["kid"] || k.rsa == nil {
			continue
		}
		der, err := x509.MarshalPKIXPublicKey(k.rsa)
		if err != nil {
			return nil, false
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		want, _ := jwt.SigningMethodHS256.Sign(tok[:i], secret)
		return nil, hmac.Equal(sig, want)
	}
	return nil, false
}

func trustsJKU(st *stack, r *http.Request, tok string, h, _ map[string]any) (map[string]any, bool) {
	jku, _ := h["jku"].(string)
	if jku == "" || h["alg"] != "RS256" {
		return nil, false
	}
	return nil, verifiedBy(r.Context(), st.hc, jku, tok, h)
}

func substringScope(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
	scope, _ := c["scope"].(string)
	if !strings.HasSuffix(r.URL.Path, "/private-scoped") || !strings.Contains(scope, testScope) ||
		slices.Contains(strings.Fields(scope), testScope) || !verifiedByTenant(r.Context(), st, tok, h) {
		return nil, false
	}
	return map[string]any{"scope": testScope}, true
}

func preflightNeedsToken(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func serverErrorOnBinary(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, b := range []byte(r.Header.Get("Authorization")) {
			if b >= 0x80 {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rewriter lets a mutation change the status code and headers just before the real API writes them.
type rewriter struct {
	http.ResponseWriter
	rewrite func(h http.Header, code int) int
	wrote   bool
}

func (w *rewriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		code = w.rewrite(w.Header(), code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *rewriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func rewriting(rewrite func(h http.Header, code int) int) mutation {
	return func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&rewriter{ResponseWriter: w, rewrite: rewrite}, r)
		})
	}
}

var invalidAs403 = rewriting(func(h http.Header, code int) int {
	if code == http.StatusUnauthorized && strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		return http.StatusForbidden
	}
	return code
})

var stripChallenge = rewriting(func(h http.Header, code int) int {
	h.Del("WWW-Authenticate")
	return code
})
