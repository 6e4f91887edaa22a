package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCallbackHandler(t *testing.T) {
	t.Parallel()
	const state = "the-state"
	results := make(chan callbackResult, 1)
	srv := httptest.NewServer(callbackHandler(state, results))
	t.Cleanup(srv.Close)
	get := func(method, target string) int {
		req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Requests that are not the login's redirect are refused and deliver nothing.
	for _, target := range []string{"/callback?code=c", "/callback?code=c&state=other", "/callback?code=c&state=the-stat",
		"/other?code=c&state=the-state", "/?state=the-state"} {
		if got := get(http.MethodGet, target); got != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", target, got)
		}
	}
	if got := get(http.MethodPost, "/callback?code=c&state=the-state"); got != http.StatusBadRequest {
		t.Errorf("POST: %d", got)
	}
	select {
	case r := <-results:
		t.Fatalf("a refused request delivered %+v", r)
	default:
	}
	if got := get(http.MethodGet, "/callback?code=the-code&state=the-state"); got != http.StatusOK {
		t.Fatalf("the redirect: %d", got)
	}
	if r := <-results; r.code != "the-code" || r.err != nil {
		t.Fatalf("result %+v", r)
	}
	if got := get(http.MethodGet, "/callback?code=again&state=the-state"); got != http.StatusGone {
		t.Fatalf("a second redirect: %d, want 410", got)
	}

	errResults := make(chan callbackResult, 1)
	errSrv := httptest.NewServer(callbackHandler(state, errResults))
	t.Cleanup(errSrv.Close)
	resp, err := errSrv.Client().Get(errSrv.URL + "/callback?error=access_denied&error_description=no&state=the-state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-errResults
	if le, ok := errors.AsType[*LoginError](r.err); !ok || le.Code != "access_denied" || le.Description != "no" {
		t.Fatalf("error redirect gave %+v", r)
	}
}

func TestVerifyIDToken(t *testing.T) {
	t.Parallel()
	srv, d := standIn(t)
	m, err := NewMinter(d, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"aud": "native", "nonce": "n1", "sub": "auth0|alice"}
	tests := []struct {
		name   string
		claims map[string]any
		nonce  string
		ok     bool
	}{
		{"good", good, "n1", true},
		{"another nonce", good, "n2", false},
		{"no nonce", map[string]any{"aud": "native", "nonce": nil}, "n1", false},
		{"another client", map[string]any{"aud": "spa", "nonce": "n1"}, "n1", false},
		{"another issuer", map[string]any{"aud": "native", "nonce": "n1", "iss": "https://evil.example/"}, "n1", false},
		{"expired", map[string]any{"aud": "native", "nonce": "n1", "exp": time.Now().Add(-time.Hour).Unix()}, "n1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idTok, err := m.Mint(context.Background(), nil, tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			err = verifyIDToken(context.Background(), srv.Client(), d, "native", tc.nonce, idTok)
			if (err == nil) != tc.ok {
				t.Fatalf("verifyIDToken = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if _, isID := errors.AsType[*IDTokenError](err); !isID {
					t.Fatalf("error %T, want *IDTokenError", err)
				}
			}
		})
	}
}

// TestLoginErrorsAreTyped: what stops a login before or after the browser is a fact the caller can word: no client
// id (ErrNoClientID), or a JWKS it cannot reach to check the ID token (an *UnreachableError inside the
// *IDTokenError).
func TestLoginErrorsAreTyped(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	d := &Discovery{Issuer: "http://x/", AuthorizationEndpoint: "http://x/authorize", TokenEndpoint: "http://x/token",
		JWKSURI: closed.URL + "/jwks"}
	_, err := Login(context.Background(), nil, d, LoginRequest{})
	if !errors.Is(err, ErrNoClientID) {
		t.Errorf("Login without a client id: %v, want ErrNoClientID", err)
	}
	assertNoCLIWords(t, err)

	err = verifyIDToken(context.Background(), &http.Client{Timeout: 5 * time.Second}, d, "native", "n", "x.y.z")
	if _, isID := errors.AsType[*IDTokenError](err); !isID || !isUnreachable("JWKS", d.JWKSURI)(err) {
		t.Errorf("ID token check with the JWKS down: %#v, want an *IDTokenError wrapping an *UnreachableError", err)
	}
	assertNoCLIWords(t, err)
}

func TestUserTokenFromCache(t *testing.T) {
	t.Parallel()
	now := time.Now()
	key := UserCacheKey("http://localhost:4000/", "native", "https://quickstarts/api")
	noDiscovery := func() (*Discovery, error) { return nil, errors.New("the tenant must not be asked") }
	tests := []struct {
		name    string
		tok     *Token // nil: nothing cached
		want    error
		wantTok bool
	}{
		{"nothing cached", nil, ErrNotLoggedIn, false},
		{"fresh", &Token{AccessToken: "at", Expiry: now.Add(time.Hour), RefreshToken: "rt"}, nil, true},
		{"expired without refresh token", &Token{AccessToken: "at", Expiry: now.Add(time.Second)}, ErrLoginExpired, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Cache{Dir: t.TempDir(), Now: func() time.Time { return now }}
			if tc.tok != nil {
				if err := c.Put(key, tc.tok); err != nil {
					t.Fatal(err)
				}
			}
			got, refreshed, err := UserToken(context.Background(), nil, c, key, noDiscovery)
			if !errors.Is(err, tc.want) || (got != nil) != tc.wantTok || refreshed {
				t.Fatalf("UserToken = %v, %v, %v; want error %v", got, refreshed, err, tc.want)
			}
		})
	}
	// A machine token's entry is never read as a login, and a refresh token with a space is refused.
	c := &Cache{Dir: t.TempDir()}
	machine := CacheKey{Issuer: key.Issuer, ClientID: "native", Audience: key.Audience, Grant: "client_credentials"}
	if err := c.Put(machine, &Token{AccessToken: "at", Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := UserToken(context.Background(), nil, c, key, noDiscovery); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("machine entry read as a login: %v", err)
	}
	if err := c.Put(key, &Token{AccessToken: "at", Expiry: now.Add(time.Hour), RefreshToken: "r t"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := UserToken(context.Background(), nil, c, key, noDiscovery); !errors.Is(err, ErrNotLoggedIn) ||
		!strings.Contains(err.Error(), "refresh or ID token") {
		t.Fatalf("a malformed refresh token was accepted: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(c.Dir, "*.json"))
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// TestLoginNeedsIDTokenForOpenID: when openid was asked for, a token response without an ID token is refused
// (OIDC Core §3.1.3.3, §3.1.3.7): otherwise the nonce, iss and aud checks are silently skipped.
func TestLoginNeedsIDTokenForOpenID(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=c1&state="+url.QueryEscape(q.Get("state")), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := &Discovery{Issuer: srv.URL + "/", AuthorizationEndpoint: srv.URL + "/authorize", TokenEndpoint: srv.URL + "/token",
		JWKSURI: srv.URL + "/jwks"}
	follow := func(ctx context.Context, u string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	tests := []struct {
		scope string
		ok    bool
	}{
		{"openid profile offline_access", false},
		{"profile offline_access", true},
	}
	for _, tc := range tests {
		t.Run(tc.scope, func(t *testing.T) {
			t.Parallel()
			tok, err := Login(context.Background(), srv.Client(), d, LoginRequest{ClientID: "native", Scope: tc.scope,
				Timeout: 10 * time.Second, OpenBrowser: func(ctx context.Context, u string) error { go func() { _ = follow(ctx, u) }(); return nil }})
			if tc.ok {
				if err != nil || tok.AccessToken != "at" {
					t.Fatalf("Login = %v, %v", tok, err)
				}
				return
			}
			if _, isID := errors.AsType[*IDTokenError](err); !isID {
				t.Fatalf("Login = %v, %v; want an *IDTokenError", tok, err)
			}
		})
	}
}

// TestUserTokenConcurrentRefresh: two runs of the CLI that find the same login near expiry must not both spend its
// refresh token. The tenant rotates refresh tokens and takes a second use as theft (RFC 9700 §4.14.2): it revokes
// the login, so the loser of the race would log the user out. One run refreshes; the other uses what it stored.
func TestUserTokenConcurrentRefresh(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	live, used, reused, n := "rt-0", map[string]bool{}, 0, 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // a tenant some way off: both runs have read the cache by now
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		got := r.PostForm.Get("refresh_token")
		switch {
		case used[got]:
			reused++
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token was already used; every token of its login is revoked")
			return
		case got != live:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
			return
		}
		used[got] = true
		n++
		live = fmt.Sprintf("rt-%d", n)
		writeJSON(w, http.StatusOK, map[string]any{"access_token": fmt.Sprintf("at-%d", n), "token_type": "Bearer",
			"expires_in": 3600, "refresh_token": live})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := &Discovery{Issuer: srv.URL + "/", TokenEndpoint: srv.URL + "/token"}
	key := UserCacheKey(d.Issuer, "native", "https://quickstarts/api")
	dir := t.TempDir()
	if err := (&Cache{Dir: dir}).Put(key, &Token{AccessToken: "at-0", Expiry: time.Now().Add(time.Second), RefreshToken: "rt-0"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	toks := make([]*Token, 2)
	for i := range 2 {
		wg.Go(func() {
			toks[i], _, errs[i] = UserToken(context.Background(), srv.Client(), &Cache{Dir: dir}, key,
				func() (*Discovery, error) { return d, nil })
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		} else if toks[i].AccessToken == "at-0" {
			t.Errorf("run %d got the expiring token", i)
		}
	}
	if reused != 0 {
		t.Fatalf("the refresh token was presented twice (%d reuse), which revokes the login", reused)
	}
	if got, err := (&Cache{Dir: dir}).LoadStale(key); err != nil || got.RefreshToken != live {
		t.Fatalf("cache holds %v (%v), want the live refresh token %s", got, err, live)
	}
}
