package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

func TestCallRoutesByGrant(t *testing.T) {
	tn := tokTenant(t)
	api := tokAPI(t, tn.URL+"/")
	tests := []struct {
		id, secret string
		route      string
		want       string
		challenge  string
	}{
		{"quickstart-noscope", "noscope-secret", "/api/public", "200 OK", ""},
		{"quickstart-noscope", "noscope-secret", "/api/private", "200 OK", ""},
		{"quickstart-noscope", "noscope-secret", "/api/private-scoped", "403 Forbidden", "insufficient_scope"},
		{"quickstart-write", "write-secret", "/api/private-scoped", "403 Forbidden", "insufficient_scope"},
		{"quickstart-read", "read-secret", "/api/private", "200 OK", ""},
		{"quickstart-read", "read-secret", "/api/private-scoped", "200 OK", ""},
		{"quickstart-readwrite", "readwrite-secret", "/api/private-scoped", "200 OK", ""},
	}
	for _, tc := range tests {
		t.Run(tc.id+tc.route, func(t *testing.T) {
			code, stdout, stderr := tokRun(t, tokEnv(t, tn.URL+"/", api.URL, tc.id, tc.secret), "call", tc.route)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if first, _, _ := strings.Cut(stdout, "\n"); first != "GET "+tc.route+" → "+tc.want {
				t.Errorf("first line %q, want %q", first, "GET "+tc.route+" → "+tc.want)
			}
			_, line, hasChallenge := strings.Cut(stdout, "\nWWW-Authenticate: ")
			if hasChallenge != (tc.challenge != "") {
				t.Fatalf("stdout %q, want challenge %v", stdout, tc.challenge != "")
			}
			if hasChallenge {
				line, _, _ = strings.Cut(line, "\n")
				cs, err := httpcall.ParseChallenges(line)
				if err != nil || len(cs) != 1 || !cs[0].Is("Bearer") || cs[0].Params["error"] != tc.challenge ||
					cs[0].Params["scope"] != "read:messages" {
					t.Errorf("challenge %q parsed as %+v (%v); want error=%s scope=read:messages", line, cs, err, tc.challenge)
				}
			}
			if tc.want == "200 OK" && !strings.Contains(stdout, "{\n  \"message\": \"Hello from a") {
				t.Errorf("body not pretty-printed JSON: %q", stdout)
			}
		})
	}
}

func TestCallPublicWithNothingButAPI(t *testing.T) {
	api := tokAPI(t, tokTenant(t).URL+"/")
	code, stdout, stderr := tokRun(t, map[string]string{}, "call", "api/public", "--no-token", "--api", api.URL, "--expect", "200")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "GET /api/public → 200 OK\n{\n  \"message\"") {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestCallExpectAndTokens(t *testing.T) {
	tn := tokTenant(t)
	api := tokAPI(t, tn.URL+"/")
	env := tokEnv(t, tn.URL+"/", api.URL, "quickstart-read", "read-secret")
	_, tok, _ := tokRun(t, env, "token")
	tok = strings.TrimSpace(tok)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantStderr string
	}{
		{name: "expect met", args: []string{"call", "/api/private", "--expect", "200"}, wantOut: []string{"GET /api/private → 200 OK"}},
		{name: "expect differs", args: []string{"call", "/api/private", "--no-token", "--expect", "200"}, wantCode: 1,
			wantOut: []string{"GET /api/private → 401 Unauthorized", `WWW-Authenticate: Bearer realm="api"`}, wantStderr: "expected status 200, got 401 Unauthorized"},
		{name: "given token", args: []string{"call", "/api/private-scoped", "--token", tok}, wantOut: []string{"→ 200 OK"}},
		{name: "bad token", args: []string{"call", "/api/private", "--token", "abc", "--expect", "401"},
			wantOut: []string{"→ 401 Unauthorized", `error="invalid_token"`}},
		{name: "own Authorization header", args: []string{"call", "/api/private", "-H", "authorization: Bearer " + tok}, wantOut: []string{"→ 200 OK"}},
		{name: "full URL", args: []string{"call", api.URL + "/api/public", "--no-token", "--api", ""}, wantOut: []string{"GET " + api.URL + "/api/public → 200 OK"}},
		{name: "method", args: []string{"call", "/api/public", "--no-token", "-X", "post"}, wantOut: []string{"POST /api/public → 405 Method Not Allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := tokRun(t, env, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d (stdout %s stderr %s)", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout %q lacks %q", stdout, w)
				}
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantStderr)
			}
		})
	}
}

func TestCallRetriesARejectedCachedToken(t *testing.T) {
	tn := tokTenant(t)
	api := tokAPI(t, tn.URL+"/")
	env := tokEnv(t, tn.URL+"/", api.URL, "quickstart-read", "read-secret")
	// A token signed by another tenant's key stands in for one cached before the tenant restarted with new keys.
	other := tokTenant(t)
	_, stale, _ := tokRun(t, tokEnv(t, other.URL+"/", "", "quickstart-read", "read-secret"), "token")
	stale = strings.TrimSpace(stale)
	conn := &connOptions{Issuer: env["ISSUER_URL"], Audience: tokAudience, ClientID: "quickstart-read", ClientSecret: "read-secret"}
	cache := &tokens.Cache{Dir: filepath.Join(env["XDG_CACHE_HOME"], "tokencheck")}
	key := tokenCacheKey(conn, &tokenOptions{})
	if err := cache.Put(key, &tokens.Token{AccessToken: stale, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := tokRun(t, env, "call", "/api/private", "--expect", "200")
	if code != 0 || !strings.HasPrefix(stdout, "GET /api/private → 200 OK") || !strings.Contains(stderr, "cached token was rejected") {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	if got, ok := cache.Get(key); !ok || got.AccessToken == stale {
		t.Fatalf("the rejected token is still cached (%v)", ok)
	}
	// A token given with --token is never retried: its 401 is the answer.
	code, stdout, _ = tokRun(t, env, "call", "/api/private", "--token", stale)
	if code != 0 || !strings.HasPrefix(stdout, "GET /api/private → 401 Unauthorized") {
		t.Fatalf("--token: exit %d stdout %q", code, stdout)
	}
}

func TestCallErrors(t *testing.T) {
	tn := tokTenant(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	env := tokEnv(t, tn.URL+"/", down.URL, "quickstart-read", "read-secret")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"API unreachable", env, []string{"call", "/api/public", "--no-token"}, "cannot reach the API at " + down.URL + "/api/public"},
		{"token and no-token", env, []string{"call", "/x", "--token", "a", "--no-token"}, "--token and --no-token"},
		{"empty token", env, []string{"call", "/x", "--token", ""}, "--token is empty"},
		{"bad header", env, []string{"call", "/x", "--no-token", "-H", "nocolon"}, `bad -H "nocolon"`},
		{"bad expect", env, []string{"call", "/x", "--no-token", "--expect", "42"}, "--expect 42 is not an HTTP status code"},
		{"no path", env, []string{"call"}, "accepts 1 arg(s)"},
		{"no credentials", map[string]string{"API_URL": down.URL}, []string{"call", "/api/private"}, "no issuer: set --issuer or ISSUER_URL"},
		{"bad secret", tokEnv(t, tn.URL+"/", down.URL, "quickstart-read", "nope"), []string{"call", "/api/private"}, "invalid_client"},
		{"not http", env, []string{"call", "ftp://x/y", "--no-token"}, "is not an http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := tokRun(t, tc.env, tc.args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "client: ") || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d stdout %q stderr %q; want exit 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestCallRedactsTokens sends tokens in the query (access_token and a JWT under another name) and in the header,
// with and without -v, and against an API that answers and one that is down: no output may contain any of them.
func TestCallRedactsTokens(t *testing.T) {
	tn := tokTenant(t)
	api := tokAPI(t, tn.URL+"/")
	env := tokEnv(t, tn.URL+"/", api.URL, "quickstart-read", "read-secret")
	_, tok, _ := tokRun(t, env, "token")
	tok = strings.TrimSpace(tok)
	const opaque = "opaque-query-token-1234"
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tests := []struct {
		name string
		args []string
	}{
		{"query token", []string{"call", "/api/private?access_token=" + opaque + "&x=" + tok, "--no-token"}},
		{"query token -v", []string{"call", "/api/private?access_token=" + opaque + "&x=" + tok, "--token", tok, "-v"}},
		{"fetched token -v", []string{"call", "/api/private?id_token=" + tok, "-v", "--no-cache"}},
		{"full URL -v", []string{"call", api.URL + "/api/public?token=" + opaque, "--no-token", "-v"}},
		{"API down -v", []string{"call", down.URL + "/api/private?access_token=" + opaque, "--token", tok, "-v"}},
		{"API down", []string{"call", down.URL + "/api/private?access_token=" + opaque, "--token", tok}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := tokRun(t, env, tc.args...)
			out := stdout + stderr
			for _, leak := range []string{opaque, tok, tok[strings.LastIndex(tok, ".")+1:], "read-secret"} {
				if strings.Contains(out, leak) {
					t.Fatalf("output leaked %q:\n%s", leak, out)
				}
			}
			if m := wholeJWT.FindString(out); m != "" {
				t.Fatalf("output holds a whole JWT %q:\n%s", m, out)
			}
			if !strings.Contains(out, "[redacted]") {
				t.Fatalf("nothing marked redacted:\n%s", out)
			}
		})
	}
}

// wholeJWT matches a compact JWS with all three parts, which redacted output never holds.
var wholeJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
