package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

func TestTokenForEachDefaultClient(t *testing.T) {
	srv := tokTenant(t)
	tests := []struct{ id, secret, scope string }{
		{"quickstart-noscope", "noscope-secret", ""},
		{"quickstart-read", "read-secret", "read:messages"},
		{"quickstart-write", "write-secret", "write:messages"},
		{"quickstart-readwrite", "readwrite-secret", "read:messages write:messages"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			code, stdout, stderr := tokRun(t, tokEnv(t, srv.URL+"/", "", tc.id, tc.secret), "token")
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
			if strings.Count(stdout, "\n") != 1 || strings.Count(stdout, ".") != 2 {
				t.Fatalf("stdout must be the token alone on one line: %q", stdout)
			}
			_, claims, err := tokens.DecodeUnverified(strings.TrimSpace(stdout))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if claims["sub"] != tc.id+"@clients" || claims["iss"] != srv.URL+"/" || claims["aud"] != tokAudience {
				t.Errorf("claims %v", claims)
			}
			if got, _ := claims["scope"].(string); got != tc.scope {
				t.Errorf("scope %q, want %q", got, tc.scope)
			}
		})
	}
}

func TestTokenJSONAndCache(t *testing.T) {
	srv := tokTenant(t)
	env := tokEnv(t, srv.URL+"/", "", "quickstart-read", "read-secret")
	var first tokenJSON
	code, stdout, stderr := tokRun(t, env, "token", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &first); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	if first.Cached || first.Verified || first.Header["alg"] != "RS256" || first.Header["kid"] == nil ||
		first.Claims["sub"] != "quickstart-read@clients" || first.TokenResponse["token_type"] != "Bearer" {
		t.Errorf("--json = %+v", first)
	}
	if first.ExpiresIn < 23*3600 || first.ExpiresAt == "" {
		t.Errorf("expires_in %d expires_at %q, want about 24h", first.ExpiresIn, first.ExpiresAt)
	}

	// The second run is served from the cache, even with the tenant gone.
	srv.Close()
	var second tokenJSON
	code, stdout, stderr = tokRun(t, env, "token", "--json")
	if code != 0 {
		t.Fatalf("cached run: exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &second); err != nil || !second.Cached ||
		second.TokenResponse["access_token"] != first.TokenResponse["access_token"] {
		t.Fatalf("cached run gave %+v (%v)", second, err)
	}
	// --no-cache goes to the (now gone) tenant.
	code, _, stderr = tokRun(t, env, "token", "--no-cache")
	if code != 2 || !strings.Contains(stderr, "client: cannot reach the tenant at "+srv.URL+"/") ||
		!strings.Contains(stderr, "set --issuer / ISSUER_URL") {
		t.Fatalf("--no-cache with the tenant down: exit %d, stderr %s", code, stderr)
	}
	// Another scope is another cache entry.
	if code, _, _ = tokRun(t, env, "token", "--scope", "read:messages"); code != 2 {
		t.Fatalf("a different scope was served from another entry: exit %d", code)
	}
}

func TestTokenCacheExpiry(t *testing.T) {
	srv := tokTenant(t)
	env := tokEnv(t, srv.URL+"/", "", "quickstart-read", "read-secret")
	conn := &connOptions{Issuer: env["ISSUER_URL"], Audience: tokAudience, ClientID: "quickstart-read", ClientSecret: "read-secret"}
	cache := &tokens.Cache{Dir: filepath.Join(env["XDG_CACHE_HOME"], "tokencheck")}
	key := tokenCacheKey(conn, &tokenOptions{})
	// A token 30s from expiry is inside the 60s margin: a new one must be fetched and cached.
	if err := cache.Put(key, &tokens.Token{AccessToken: "about-to-expire", Expiry: time.Now().Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := tokRun(t, env, "token")
	if code != 0 || strings.TrimSpace(stdout) == "about-to-expire" {
		t.Fatalf("exit %d stdout %q stderr %s: an expiring token was reused", code, stdout, stderr)
	}
	if got, ok := cache.Get(key); !ok || got.AccessToken != strings.TrimSpace(stdout) {
		t.Fatalf("the new token was not cached: %+v %v", got, ok)
	}
	if err := cache.Put(key, &tokens.Token{AccessToken: "still-fresh", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, stdout, _ = tokRun(t, env, "token"); strings.TrimSpace(stdout) != "still-fresh" {
		t.Fatalf("a fresh cached token was not reused: %q", stdout)
	}
}

func TestTokenErrors(t *testing.T) {
	srv := tokTenant(t)
	issuer := srv.URL + "/"
	closed := tokTenant(t)
	closed.Close()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{name: "nothing configured", env: map[string]string{"XDG_CACHE_HOME": t.TempDir()}, args: []string{"token"},
			want: []string{"no issuer: set --issuer or ISSUER_URL (or AUTH0_DOMAIN)", "no audience: set --audience or AUTH0_AUDIENCE",
				"no client id: set --client-id or AUTH0_CLIENT_ID", "no client secret: set --client-secret or AUTH0_CLIENT_SECRET"}},
		{name: "device needs no secret", env: map[string]string{"ISSUER_URL": issuer, "AUTH0_AUDIENCE": tokAudience}, args: []string{"token", "--device"},
			want: []string{"no client id: set --client-id or AUTH0_CLIENT_ID"}},
		{name: "bad secret shows the tenant's description", env: tokEnv(t, issuer, "", "quickstart-read", "wrong"), args: []string{"token"},
			want: []string{"invalid_client", "check --client-id / AUTH0_CLIENT_ID"}},
		{name: "unknown audience", env: tokEnv(t, issuer, "", "quickstart-read", "read-secret"), args: []string{"token", "--audience", "https://nope"},
			want: []string{"HTTP 403 access_denied"}},
		{name: "tenant unreachable", env: tokEnv(t, closed.URL+"/", "", "quickstart-read", "read-secret"), args: []string{"token"},
			want: []string{"cannot reach the tenant at " + closed.URL + "/", "is it running? set --issuer / ISSUER_URL"}},
		{name: "bad flag", env: tokEnv(t, issuer, "", "a", "b"), args: []string{"token", "--bogus"}, want: []string{"unknown flag: --bogus"}},
		{name: "device with a confidential client and its secret", env: tokEnv(t, issuer, "", "quickstart-read", "read-secret"),
			args: []string{"token", "--device"},
			want: []string{"invalid_client", "the device flow needs a public (native) application and sends no client secret",
				`"quickstart-read" is not one`, "the stand-in's is cli"}},
		{name: "device with a confidential client, no secret", env: map[string]string{"ISSUER_URL": issuer, "AUTH0_AUDIENCE": tokAudience,
			"AUTH0_CLIENT_ID": "quickstart-read", "XDG_CACHE_HOME": t.TempDir()},
			args: []string{"token", "--device"}, want: []string{"invalid_client", "the device flow needs a public (native) application"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := tokRun(t, tc.env, tc.args...)
			if strings.Contains(stderr, "must authenticate") {
				t.Errorf("stderr %q still says must authenticate", stderr)
			}
			if code != 2 || stdout != "" {
				t.Fatalf("exit %d stdout %q, want 2 and nothing on stdout (stderr %s)", code, stdout, stderr)
			}
			if !strings.HasPrefix(stderr, "client: ") || strings.Contains(stderr, "goroutine") {
				t.Errorf("stderr %q", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

func TestTokenVerboseRedacts(t *testing.T) {
	srv := tokTenant(t)
	code, stdout, stderr := tokRun(t, tokEnv(t, srv.URL+"/", "", "quickstart-read", "read-secret"), "token", "--verbose", "--no-cache")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tok := strings.TrimSpace(stdout)
	for _, w := range []string{"> GET " + srv.URL + "/.well-known/openid-configuration", "> POST " + srv.URL + "/oauth/token",
		"client_secret=[redacted]", `"access_token":"eyJhbGciOi…[redacted]"`, "< HTTP/1.1 200 OK"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("verbose stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "read-secret") || strings.Contains(stderr, tok) || strings.Contains(stderr, tok[len(tok)-20:]) {
		t.Errorf("verbose stderr leaks the secret or the token:\n%s", stderr)
	}
}

func TestTokenDeviceFlow(t *testing.T) {
	srv := tokTenant(t)
	env := map[string]string{"ISSUER_URL": srv.URL + "/", "AUTH0_AUDIENCE": tokAudience, "AUTH0_CLIENT_ID": "cli", "XDG_CACHE_HOME": t.TempDir()}
	var out, errb testhttp.SyncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, []string{"token", "--device", "--scope", "read:messages"}) }()

	var userCode string
	for userCode == "" {
		select {
		case code := <-done:
			t.Fatalf("device flow ended (exit %d) before a code was shown: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if _, rest, ok := strings.Cut(errb.String(), "enter the code: "); ok {
			userCode, _, _ = strings.Cut(rest, "\n")
		}
	}
	if out.String() != "" {
		t.Fatalf("the prompt must go to stderr, stdout has %q", out.String())
	}
	form := url.Values{"user_code": {userCode}, "username": {"alice"}, "password": {"alice-password"}, "action": {"approve"}}
	resp, err := http.PostForm(srv.URL+"/activate", form) //nolint:noctx // the test plays the user's browser
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve answered %d", resp.StatusCode)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	_, claims, err := tokens.DecodeUnverified(strings.TrimSpace(out.String()))
	if err != nil || claims["sub"] != "auth0|alice" || claims["scope"] != "read:messages" {
		t.Fatalf("device token claims %v (%v)", claims, err)
	}
}

func TestTokenDeviceFlowInterrupted(t *testing.T) {
	srv := tokTenant(t)
	env := map[string]string{"ISSUER_URL": srv.URL + "/", "AUTH0_AUDIENCE": tokAudience, "AUTH0_CLIENT_ID": "cli", "XDG_CACHE_HOME": t.TempDir()}
	var out, errb testhttp.SyncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, []string{"token", "--device"}) }()
	for !strings.Contains(errb.String(), "enter the code: ") {
		select {
		case code := <-done:
			t.Fatalf("ended (exit %d) before the prompt: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel() // Ctrl-C while waiting for approval
	select {
	case code := <-done:
		if code != 2 || out.String() != "" || !strings.Contains(errb.String(), "client: interrupted before a token was issued") {
			t.Fatalf("exit %d stdout %q stderr %q", code, out.String(), errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the device flow ignored the interrupt")
	}
}

// TestTokenCacheIgnoresBadEntries plants bad cache files where `client token` looks and checks it fetches a new
// token from the tenant (over HTTP), says so in one line with -v and nothing without, and replaces the entry.
func TestTokenCacheIgnoresBadEntries(t *testing.T) {
	srv := tokTenant(t)
	tests := []struct {
		name  string
		plant func(t *testing.T, path string)
		note  string
	}{
		{"world-readable", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(`{}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "mode 0644, want 0600"},
		{"not JSON", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("{nope"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "malformed JSON"},
		{"FIFO", func(t *testing.T, path string) {
			if err := mkfifo(path); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
		}, "not a regular file"},
	}
	for _, tc := range tests {
		for _, verbose := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s verbose=%v", tc.name, verbose), func(t *testing.T) {
				env := tokEnv(t, srv.URL+"/", "", "quickstart-read", "read-secret")
				conn := &connOptions{Issuer: env["ISSUER_URL"], Audience: tokAudience, ClientID: "quickstart-read", ClientSecret: "read-secret"}
				dir := filepath.Join(env["XDG_CACHE_HOME"], "tokencheck")
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				cache := &tokens.Cache{Dir: dir}
				key := tokenCacheKey(conn, &tokenOptions{})
				var path string
				if err := cache.Put(key, &tokens.Token{AccessToken: "x", Expiry: time.Now().Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
				matches, _ := filepath.Glob(filepath.Join(dir, "*.json"))
				if len(matches) != 1 {
					t.Fatalf("cache files %v", matches)
				}
				path = matches[0]
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				tc.plant(t, path)
				args := []string{"token"}
				if verbose {
					args = append(args, "-v")
				}
				done := make(chan struct{})
				var (
					code           int
					stdout, stderr string
				)
				go func() { code, stdout, stderr = tokRun(t, env, args...); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("client token hung on the planted cache entry")
				}
				tok := strings.TrimSpace(stdout)
				if code != 0 || strings.Count(tok, ".") != 2 {
					t.Fatalf("exit %d stdout %q stderr %s", code, stdout, stderr)
				}
				notes := 0
				for _, line := range strings.Split(stderr, "\n") {
					if strings.HasPrefix(line, "client: ignoring cached token ") {
						notes++
						if !strings.Contains(line, tc.note) || !strings.HasSuffix(line, "; fetching a new token") {
							t.Errorf("note %q lacks %q", line, tc.note)
						}
					}
				}
				if want := map[bool]int{false: 0, true: 1}[verbose]; notes != want {
					t.Errorf("%d notes, want %d:\n%s", notes, want, stderr)
				}
				if got, err := cache.Load(key); err != nil || got.AccessToken != tok {
					t.Fatalf("the bad entry was not replaced: %+v %v", got, err)
				}
			})
		}
	}
}
