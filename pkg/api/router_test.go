package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testissuer"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

func TestRoutesAndBodies(t *testing.T) {
	f := newFixture(t, fixtureConfig{cacheSize: auth.DefaultCacheSize})
	tok := f.iss.Token(t, nil)
	tests := []struct {
		path   string
		header http.Header
		body   string
	}{
		{"/api/public", nil, `{"message":"Hello from a public endpoint! You don't need to be authenticated to see this."}`},
		{"/ping", nil, `{"text":"All good. You don't need to be authenticated to call this"}`},
		{"/healthz", nil, `{"status":"ok"}`},
		{"/readyz", nil, `{"status":"ready"}`},
		{"/api/private", bearer(tok), `{"message":"Hello from a private endpoint! You need to be authenticated to see this."}`},
		{"/secured/ping", bearer(tok), `{"text":"All good. You only get this message if you're authenticated"}`},
		{"/api/private-scoped", bearer(tok), `{"message":"Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."}`},
		// The public routes ignore a token, even a bad one.
		{"/api/public", bearer("garbage"), `{"message":"Hello from a public endpoint! You don't need to be authenticated to see this."}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := f.do(t, http.MethodGet, tt.path, tt.header)
			if r.status != http.StatusOK || string(r.body) != tt.body {
				t.Errorf("GET %s = %d %s, want 200 %s", tt.path, r.status, r.body, tt.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("unexpected challenge on 200: %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestStatusTable walks every row of the contract's status table through the router and the real validator.
func TestStatusTable(t *testing.T) {
	f := newFixture(t, fixtureConfig{cacheSize: auth.DefaultCacheSize})
	iss := f.iss
	other := testissuer.NewKey(t, "key-1") // same kid, different key: a forged signature
	hdr := func(kid string) map[string]any { return map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid} }
	signed := func(header map[string]any, edit func(map[string]any)) string {
		c := iss.Claims()
		if edit != nil {
			edit(c)
		}
		return testissuer.Sign(t, header, c, iss.SigningKey().Private)
	}
	noScope := iss.Token(t, func(c map[string]any) { c["scope"] = "write:messages" })
	const noError = `Bearer realm="api"`
	scopeChallenge := `Bearer realm="api", error="insufficient_scope", error_description="` +
		auth.ReasonInsufficientScope.Description() + `", scope="read:messages"`

	tests := []struct {
		name      string
		path      string
		header    http.Header
		status    int
		challenge string
		errCode   string // JSON "error", "" when absent
	}{
		{"no authorization", "/api/private", nil, 401, noError, ""},
		{"basic scheme", "/api/private", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, noError, ""},
		{"bearer without token", "/api/private", http.Header{"Authorization": {"Bearer"}}, 401, noError, ""},
		{"bearer blank", "/api/private", http.Header{"Authorization": {"Bearer    "}}, 401, noError, ""},
		{"empty header", "/secured/ping", http.Header{"Authorization": {""}}, 401, noError, ""},
		{"not a JWT", "/api/private", bearer("abc"), 401, invalidToken(auth.ReasonMalformed), "invalid_token"},
		{"two words", "/api/private", bearer("a b"), 401, invalidToken(auth.ReasonMalformed), "invalid_token"},
		{"bad signature", "/api/private", bearer(testissuer.Sign(t, hdr("key-1"), iss.Claims(), other.Private)), 401,
			invalidToken(auth.ReasonBadSignature), "invalid_token"},
		{"unknown kid", "/api/private", bearer(signed(hdr("no-such-key"), nil)), 401, invalidToken(auth.ReasonUnknownKID), "invalid_token"},
		{"alg HS256", "/api/private", bearer(signed(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "key-1"}, nil)), 401,
			invalidToken(auth.ReasonBadAlg), "invalid_token"},
		{"alg none", "/api/private", bearer(testissuer.Encode(t, map[string]any{"alg": "none"}) + "." + testissuer.Encode(t, iss.Claims()) + "."),
			401, invalidToken(auth.ReasonBadAlg), "invalid_token"},
		{"wrong issuer", "/api/private", bearer(iss.Token(t, func(c map[string]any) { c["iss"] = "https://evil.example/" })), 401,
			invalidToken(auth.ReasonBadIssuer), "invalid_token"},
		{"wrong audience", "/api/private", bearer(iss.Token(t, func(c map[string]any) { c["aud"] = []string{"https://other/api"} })), 401,
			invalidToken(auth.ReasonBadAudience), "invalid_token"},
		{"expired", "/api/private", bearer(iss.Token(t, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), 401,
			`Bearer realm="api", error="invalid_token", error_description="token is expired"`, "invalid_token"},
		{"not yet valid", "/api/private", bearer(iss.Token(t, func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), 401,
			invalidToken(auth.ReasonNotYetValid), "invalid_token"},
		{"bad typ", "/api/private", bearer(signed(map[string]any{"alg": "RS256", "typ": "id_token+jwt", "kid": "key-1"}, nil)), 401,
			invalidToken(auth.ReasonBadTyp), "invalid_token"},
		{"crit header", "/api/private", bearer(signed(map[string]any{"alg": "RS256", "kid": "key-1", "crit": []string{"exp"}}, nil)), 401,
			invalidToken(auth.ReasonCrit), "invalid_token"},
		{"jku ignored", "/api/private", bearer(signed(map[string]any{"alg": "RS256", "kid": "evil", "jku": "http://127.0.0.1:1/jwks"}, nil)), 401,
			invalidToken(auth.ReasonUnknownKID), "invalid_token"},
		{"header and query", "/api/private?access_token=" + url.QueryEscape(iss.Token(t, nil)), bearer(iss.Token(t, nil)), 400,
			`Bearer realm="api", error="invalid_request", error_description="` + auth.ReasonMultipleTokens.Description() + `"`, "invalid_request"},
		{"no scope", "/api/private-scoped", bearer(noScope), 403, scopeChallenge, "insufficient_scope"},
		{"no scope is fine unscoped", "/api/private", bearer(noScope), 200, "", ""},
		{"scope via permissions", "/api/private-scoped", bearer(iss.Token(t, func(c map[string]any) {
			delete(c, "scope")
			c["permissions"] = []string{"read:messages"}
		})), 200, "", ""},
		{"scope is exact", "/api/private-scoped", bearer(iss.Token(t, func(c map[string]any) { c["scope"] = "read:messages:all read" })), 403,
			scopeChallenge, "insufficient_scope"},
		{"at+jwt typ", "/secured/ping", bearer(signed(map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": "key-1"}, nil)), 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, http.MethodGet, tt.path, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate\n got %q\nwant %q", got, tt.challenge)
			}
			body := r.json(t)
			if tt.status == 200 {
				return
			}
			if got, _ := body["error"].(string); got != tt.errCode {
				t.Errorf("body error %q, want %q: %s", got, tt.errCode, r.body)
			}
			if msg, _ := body["message"].(string); msg == "" {
				t.Errorf("body has no message: %s", r.body)
			}
			if tt.errCode != "" {
				if d, _ := body["error_description"].(string); !strings.Contains(tt.challenge, `error_description="`+d+`"`) {
					t.Errorf("body error_description %q does not match the challenge %q", d, tt.challenge)
				}
			}
		})
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nope", 404, "not_found"},
		{http.MethodGet, "/api/public/", 404, "not_found"}, // no redirect dance with tokens
		{http.MethodGet, "/API/PUBLIC", 404, "not_found"},
		{http.MethodPost, "/api/public", 405, "method_not_allowed"},
		{http.MethodDelete, "/api/private", 405, "method_not_allowed"},
		{http.MethodPut, "/healthz", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := f.do(t, tt.method, tt.path, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if got, _ := r.json(t)["error"].(string); got != tt.code {
				t.Errorf("error %q, want %q", got, tt.code)
			}
			if tt.status == 405 && r.header.Get("Allow") != "GET" {
				t.Errorf("Allow %q, want GET", r.header.Get("Allow"))
			}
		})
	}
}

func TestRequiredScopeOption(t *testing.T) {
	f := newFixture(t, fixtureConfig{scope: "write:messages"})
	read := f.iss.Token(t, nil)
	write := f.iss.Token(t, func(c map[string]any) { c["scope"] = "write:messages" })
	if r := f.do(t, http.MethodGet, "/api/private-scoped", bearer(read)); r.status != 403 ||
		!strings.Contains(r.header.Get("WWW-Authenticate"), `scope="write:messages"`) {
		t.Errorf("read token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	r := f.do(t, http.MethodGet, "/api/private-scoped", bearer(write))
	if want := `{"message":"Hello from a private endpoint! You need to be authenticated and have a scope of write:messages to see this."}`; r.status != 200 || string(r.body) != want {
		t.Errorf("write token: %d %s", r.status, r.body)
	}
}

// TestTenantDownAtStart: private routes answer 503 with Retry-After while no key set ever loaded, public routes
// keep working, and the keys load without a restart once the tenant is back.
func TestTenantDownAtStart(t *testing.T) {
	f := newFixture(t, fixtureConfig{issuerDown: true, cacheSize: auth.DefaultCacheSize})
	tok := f.iss.Token(t, nil)

	eventually(t, "a failed key fetch", func() bool { return f.iss.JWKSHits()+f.iss.DiscoveryHits() > 0 })
	if r := f.do(t, http.MethodGet, "/readyz", nil); r.status != 503 || r.json(t)["status"] != "unavailable" {
		t.Errorf("readyz while down: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/api/private", "/secured/ping", "/api/private-scoped"} {
		r := f.do(t, http.MethodGet, p, bearer(tok))
		if r.status != 503 || r.header.Get("Retry-After") == "" || r.header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s while down: %d Retry-After=%q WWW-Authenticate=%q", p, r.status, r.header.Get("Retry-After"), r.header.Get("WWW-Authenticate"))
		}
	}
	for _, p := range []string{"/api/public", "/ping", "/healthz"} {
		if r := f.do(t, http.MethodGet, p, nil); r.status != 200 {
			t.Errorf("%s while down: %d", p, r.status)
		}
	}

	f.iss.SetDown(false)
	eventually(t, "readyz 200", func() bool { return f.do(t, http.MethodGet, "/readyz", nil).status == 200 })
	if r := f.do(t, http.MethodGet, "/api/private", bearer(tok)); r.status != 200 {
		t.Errorf("private after recovery: %d %s", r.status, r.body)
	}
}

func TestNilAuthenticatorFailsClosed(t *testing.T) {
	r := NewRouter(Options{})
	srv := newServer(t, r)
	if res := get(t, srv, "/api/private", bearer("x")); res.status != 503 {
		t.Errorf("private without authenticator: %d", res.status)
	}
	if res := get(t, srv, "/readyz", nil); res.status != 503 {
		t.Errorf("readyz without authenticator: %d", res.status)
	}
	if res := get(t, srv, "/api/public", nil); res.status != 200 {
		t.Errorf("public without authenticator: %d", res.status)
	}
}

// TestKeyRotation: a token signed by a key published after start is accepted without a restart (unknown kid
// triggers a refetch), and the old key keeps working while it is still published.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, fixtureConfig{cacheSize: auth.DefaultCacheSize})
	old := f.iss.Token(t, nil)
	f.iss.Rotate(t, "key-2")
	fresh := f.iss.Token(t, nil)
	for name, tok := range map[string]string{"new key": fresh, "old key": old} {
		if r := f.do(t, http.MethodGet, "/api/private", bearer(tok)); r.status != 200 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
}
