package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/pkg/tenant"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// loginTenant serves the stand-in tenant with its built-in clients and users and the given access token lifetime.
func loginTenant(t *testing.T, ttl time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := tenant.DefaultConfig()
	cfg.TokenTTL = ttl
	tn, err := tenant.New(cfg, tenant.Options{Issuer: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = tn.Handler()
	return srv
}

var (
	loginURLRE    = regexp.MustCompile(`http://127\.0\.0\.1:\d+/authorize\?\S+`)
	loginHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// startLogin runs `client login --no-browser args…` in the background and returns the login URL it printed and a
// channel with its exit code, stdout and stderr.
func startLogin(t *testing.T, env map[string]string, args ...string) (authURL string, done <-chan loginRun) {
	t.Helper()
	var out, errb testhttp.SyncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	ch := make(chan loginRun, 1)
	go func() {
		code := a.run(t.Context(), append([]string{"login", "--no-browser"}, args...))
		ch <- loginRun{code, out.String(), errb.String()}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if u := loginURLRE.FindString(errb.String()); u != "" {
			return u, ch
		}
		select {
		case r := <-ch:
			t.Fatalf("client login ended (exit %d) before printing a URL:\n%s%s", r.code, r.stdout, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("client login printed no URL: %s", errb.String())
	return "", nil
}

type loginRun struct {
	code           int
	stdout, stderr string
}

func waitLogin(t *testing.T, done <-chan loginRun) loginRun {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("client login did not finish")
		return loginRun{}
	}
}

// signInAs is the user in a browser: open the login URL, fill in the form with its hidden fields (CSRF token
// included), press the button (action) and follow the redirect, to the CLI's loopback listener. It returns the
// last response's status and body.
func signInAs(t *testing.T, authURL, username, password, action string) (int, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(method, u string, form url.Values) (*http.Response, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(context.Background(), method, u, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, string(raw)
	}
	resp, page := get(http.MethodGet, authURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, page)
	}
	form := url.Values{}
	for _, m := range loginHiddenRE.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", username)
	form.Set("password", password)
	form.Set("action", action)
	action2, _ := url.Parse(authURL)
	resp, page = get(http.MethodPost, action2.Scheme+"://"+action2.Host+"/authorize", form)
	return resp.StatusCode, page
}

func TestLoginEndToEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, password string
		ttl                  time.Duration // 30s is within the refresh margin: every --user use refreshes
		scoped               string        // the status line of /api/private-scoped
	}{
		{"alice, fresh token", "alice", "alice-password", 24 * time.Hour, "200 OK"},
		{"bob, token near expiry", "bob", "bob-password", 30 * time.Second, "403 Forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ten := loginTenant(t, tc.ttl)
			issuer := ten.URL + "/"
			api := tokAPI(t, issuer)
			env := tokEnv(t, issuer, api.URL, "", "")
			// A client-credentials token cached first must be untouched by the login.
			ccEnv := tokEnv(t, issuer, api.URL, "quickstart-read", "read-secret")
			ccEnv["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
			code, ccTok, stderr := tokRun(t, ccEnv, "token")
			if code != 0 {
				t.Fatalf("client token: %d %s", code, stderr)
			}

			authURL, done := startLogin(t, env)
			u, _ := url.Parse(authURL)
			q := u.Query()
			if q.Get("client_id") != "native" || q.Get("code_challenge_method") != "S256" || q.Get("audience") != tokAudience ||
				q.Get("scope") != tokens.DefaultLoginScope || q.Get("state") == "" || q.Get("nonce") == "" {
				t.Fatalf("login URL %s", authURL)
			}
			// A request to the listener with another state is refused and does not end the login.
			redirect, _ := url.Parse(q.Get("redirect_uri"))
			if resp, err := http.Get(redirect.String() + "?code=forged&state=wrong"); err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("forged callback: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			status, page := signInAs(t, authURL, tc.user, tc.password, "login")
			if status != http.StatusOK || !strings.Contains(page, "You can close this tab") {
				t.Fatalf("after sign-in the browser shows %d:\n%s", status, page)
			}
			r := waitLogin(t, done)
			if r.code != 0 || !strings.Contains(r.stdout, "Logged in as auth0|"+tc.user) {
				t.Fatalf("client login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}

			cache := &tokens.Cache{Dir: filepath.Join(env["XDG_CACHE_HOME"], "tokencheck")}
			key := tokens.UserCacheKey(issuer, "native", tokAudience)
			stored, err := cache.LoadStale(key)
			if err != nil || stored.RefreshToken == "" || stored.IDToken == "" || stored.AccessToken == "" {
				t.Fatalf("cache after login: %+v %v", stored, err)
			}
			if ccCached, err := cache.LoadStale(tokens.CacheKey{Issuer: issuer, ClientID: "quickstart-read", Audience: tokAudience,
				Grant: "client_credentials", Secret: "read-secret"}); err != nil || ccCached.AccessToken != strings.TrimSpace(ccTok) {
				t.Fatalf("the client-credentials entry changed: %v", err)
			}
			files, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json"))
			for _, f := range files {
				if st, err := os.Lstat(f); err != nil || st.Mode().Perm() != 0o600 || !st.Mode().IsRegular() {
					t.Fatalf("cache file %s: %v %v", f, st.Mode(), err)
				}
			}

			code, out, stderr := tokRun(t, env, "token", "--user")
			printed := strings.TrimSpace(out)
			if code != 0 || printed == "" {
				t.Fatalf("token --user: %d %s", code, stderr)
			}
			after, _ := cache.LoadStale(key)
			refreshed := tc.ttl < tokens.DefaultMargin
			if (printed != stored.AccessToken) != refreshed || (after.RefreshToken != stored.RefreshToken) != refreshed ||
				after.AccessToken != printed {
				t.Fatalf("token --user: refreshed %v, printed the stored token %v, refresh token rotated %v",
					refreshed, printed == stored.AccessToken, after.RefreshToken != stored.RefreshToken)
			}

			code, out, _ = tokRun(t, env, "token", "--user", "--json")
			if code != 0 || !strings.Contains(out, `"refresh_token": "[redacted]"`) || strings.Contains(out, stored.RefreshToken) ||
				strings.Contains(out, after.RefreshToken) {
				t.Fatalf("token --user --json shows the refresh token: %d\n%s", code, out)
			}
			for path, want := range map[string]string{"/api/private": "200 OK", "/api/private-scoped": tc.scoped, "/secured/ping": "200 OK"} {
				code, out, stderr := tokRun(t, env, "call", "--user", path)
				if code != 0 || !strings.Contains(out, "→ "+want) {
					t.Fatalf("call --user %s: exit %d, want %s\n%s%s", path, code, want, out, stderr)
				}
			}

			live, err := cache.LoadStale(key)
			if err != nil {
				t.Fatal(err)
			}
			code, out, stderr = tokRun(t, env, "logout", "--end-session")
			if code != 0 || !strings.Contains(out, "Logged out") || !strings.Contains(out, "ended the session") {
				t.Fatalf("logout: %d\n%s%s", code, out, stderr)
			}
			if _, err := cache.LoadStale(key); err == nil {
				t.Fatal("the login is still cached after logout")
			}
			if _, err := cache.LoadStale(tokens.CacheKey{Issuer: issuer, ClientID: "quickstart-read", Audience: tokAudience,
				Grant: "client_credentials", Secret: "read-secret"}); err != nil {
				t.Fatalf("logout removed the client-credentials entry: %v", err)
			}
			// --end-session revoked the login at the tenant: its last refresh token is refused.
			resp, err := http.PostForm(ten.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"native"},
				"refresh_token": {live.RefreshToken}})
			if err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("refresh after --end-session: %v %v", resp, err)
			}
			resp.Body.Close()
			code, _, stderr = tokRun(t, env, "token", "--user")
			if code != 2 || !strings.Contains(stderr, "not logged in") || !strings.Contains(stderr, "client login") {
				t.Fatalf("token --user after logout: %d %s", code, stderr)
			}
			if code, out, _ := tokRun(t, env, "logout"); code != 0 || !strings.Contains(out, "Not logged in") {
				t.Fatalf("second logout: %d %s", code, out)
			}
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	ten := loginTenant(t, time.Hour)
	issuer := ten.URL + "/"
	env := tokEnv(t, issuer, "", "", "")

	t.Run("the user cancels", func(t *testing.T) {
		t.Parallel()
		authURL, done := startLogin(t, env)
		if status, page := signInAs(t, authURL, "alice", "", "cancel"); status != http.StatusOK || !strings.Contains(page, "access_denied") {
			t.Fatalf("after cancel the browser shows %d:\n%s", status, page)
		}
		if r := waitLogin(t, done); r.code != 2 || !strings.Contains(r.stderr, "access_denied") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("nobody comes back", func(t *testing.T) {
		t.Parallel()
		_, done := startLogin(t, env, "--wait", "300ms")
		if r := waitLogin(t, done); r.code != 2 || !strings.Contains(r.stderr, "timed out") || !strings.Contains(r.stderr, "--wait") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("a scope the API lacks", func(t *testing.T) {
		t.Parallel()
		authURL, done := startLogin(t, env, "--scope", "openid admin:all")
		// The tenant redirects with invalid_scope before showing a form; the browser lands on the listener.
		resp, err := http.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if r := waitLogin(t, done); r.code != 2 || !strings.Contains(r.stderr, "invalid_scope") || !strings.Contains(r.stderr, "--scope") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"login without issuer", map[string]string{"XDG_CACHE_HOME": t.TempDir()}, []string{"login", "--no-browser"}, "no issuer"},
		{"token --user before login", env, []string{"token", "--user"}, "run client login"},
		{"token --user --device", env, []string{"token", "--user", "--device"}, "contradict"},
		{"token --user --scope", env, []string{"token", "--user", "--scope", "read:messages"}, "chosen at client login"},
		{"call --user --no-token", env, []string{"call", "--user", "--no-token", "/api/private"}, "contradicts"},
		{"login --wait 0", env, []string{"login", "--wait", "0s"}, "--wait must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := tokRun(t, tc.env, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want 2 with %q: %s", code, tc.want, stderr)
			}
		})
	}
}

// TestLogoutEndSessionWithoutIDToken: a login without openid has no ID token, so the end_session_endpoint cannot be
// told which login to end. logout --end-session must not say the tenant ended the session when it did not: the
// refresh token still works there.
func TestLogoutEndSessionWithoutIDToken(t *testing.T) {
	t.Parallel()
	ten := loginTenant(t, time.Hour)
	issuer := ten.URL + "/"
	env := tokEnv(t, issuer, "", "", "")
	authURL, done := startLogin(t, env, "--scope", "offline_access read:messages")
	if status, page := signInAs(t, authURL, "alice", "alice-password", "login"); status != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", status, page)
	}
	if r := waitLogin(t, done); r.code != 0 {
		t.Fatalf("client login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cache := &tokens.Cache{Dir: filepath.Join(env["XDG_CACHE_HOME"], "tokencheck")}
	live, err := cache.LoadStale(tokens.UserCacheKey(issuer, "native", tokAudience))
	if err != nil || live.IDToken != "" || live.RefreshToken == "" {
		t.Fatalf("cache after a login without openid: %+v %v", live, err)
	}
	code, out, stderr := tokRun(t, env, "logout", "--end-session")
	if code != 2 || strings.Contains(out, "ended the session") || !strings.Contains(stderr, "ID token") {
		t.Fatalf("logout --end-session without an ID token: exit %d\n%s%s", code, out, stderr)
	}
	resp, err := http.PostForm(ten.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"native"},
		"refresh_token": {live.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d; this test assumes the tenant still honours the login", resp.StatusCode)
	}
}
