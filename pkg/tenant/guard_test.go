package tenant

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// doHost sends a request with the Host header (and so the authority the tenant sees) set to host, "" for the
// server's own, and returns the response with its body read.
func (f *fixture) doHost(method, path, host, contentType, body string, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, b
}

func TestAllowedHosts(t *testing.T) {
	t.Parallel()
	// def has the hints client tenant gives, custom none: its 421 answers use the generic wording.
	def := start(t, nil, Options{Hints: cliHints})
	custom := start(t, nil, Options{AllowedHosts: []string{"tenant.test", "Other.Test."}})
	_, port, _ := net.SplitHostPort(def.srv.Listener.Addr().String())
	tests := []struct {
		name   string
		f      *fixture
		host   string
		path   string
		status int
	}{
		{"httptest address", def, "", PathJWKS, 200},
		{"localhost with port", def, "localhost:" + port, PathJWKS, 200},
		{"localhost any port", def, "localhost:1", PathOpenIDConfiguration, 200},
		{"LOCALHOST upper case, trailing dot", def, "LOCALHOST.:4000", PathJWKS, 200},
		{"127.0.0.1 no port", def, "127.0.0.1", PathJWKS, 200},
		{"[::1]", def, "[::1]:4000", PathJWKS, 200},
		{"compose service name", def, "tenant:4000", PathJWKS, 200},
		{"rebinding name on jwks", def, "evil.example:" + port, PathJWKS, 421},
		{"rebinding name on mint", def, "evil.example", PathMint, 421},
		{"rebinding name on token", def, "attacker.test", PathToken, 421},
		{"suffix of an allowed name", def, "localhost.evil.example", PathJWKS, 421},
		{"custom list", custom, "tenant.test:443", PathJWKS, 200},
		{"custom list, normalised entry", custom, "other.test", PathJWKS, 200},
		{"custom list keeps the issuer's host", custom, "", PathJWKS, 200},
		{"custom list replaces the defaults", custom, "localhost:4000", PathJWKS, 421},
		{"no hint, generic wording", custom, "evil.example", PathMint, 421},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodGet
			if tc.path == PathMint || tc.path == PathToken {
				method = http.MethodPost
			}
			resp, raw := tc.f.doHost(method, tc.path, tc.host, "application/json", "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if tc.status == 421 {
				body := decodeObject(t, raw)
				want := fmt.Sprintf("host %q is not one of this tenant's allowed hosts", tc.host)
				if hint := tc.f.tenant.hints.AllowedHosts; hint != "" {
					want += "; " + hint
				} else {
					assertNoFlagNames(t, want)
				}
				if body["error"] != "invalid_request" || body["error_description"] != want ||
					resp.Header.Get("Content-Type") != "application/json" {
					t.Fatalf("421 body %v (%s), want error_description %q", body, resp.Header.Get("Content-Type"), want)
				}
			}
		})
	}
	if _, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", AllowedHosts: []string{"a b"}}); err == nil {
		t.Fatal("an allowed host with a space was accepted")
	}
}

// TestDevEndpointsRefuseCrossSite is CSRF and DNS rebinding against /dev/mint and /dev/rotate: only JSON from the
// tenant's own origin (or from a caller that sends no Origin) gets through.
func TestDevEndpointsRefuseCrossSite(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	own := f.srv.URL
	_, port, _ := strings.Cut(strings.TrimPrefix(own, "http://"), ":")
	origin := func(o string) http.Header { return http.Header{"Origin": {o}} }
	tests := []struct {
		name, path, contentType, body string
		header                        http.Header
		status                        int
	}{
		{"mint JSON, no Origin", PathMint, "application/json", `{}`, nil, 200},
		{"mint JSON, own Origin", PathMint, "application/json", `{}`, origin(own), 200},
		{"mint JSON, own Origin by another allowed name", PathMint, "application/json", `{}`, origin("http://localhost:" + port), 403},
		{"mint empty, no type, no Origin (curl -X POST)", PathMint, "", "", nil, 200},
		{"mint JSON, foreign Origin", PathMint, "application/json", `{}`, origin("https://evil.example"), 403},
		{"mint JSON, Origin null", PathMint, "application/json", `{}`, origin("null"), 403},
		{"mint text/plain, foreign Origin", PathMint, "text/plain", `{}`, origin("https://evil.example"), 403},
		{"mint text/plain, no Origin", PathMint, "text/plain", `{}`, nil, 415},
		{"mint form, own Origin", PathMint, "application/x-www-form-urlencoded", "a=1", origin(own), 415},
		{"mint empty, no type, own Origin", PathMint, "", "", origin(own), 415},
		{"rotate cross-site text/plain", PathRotate, "text/plain", `{"prepublish":true}`, origin("https://evil.example"), 403},
		{"rotate cross-site text/plain, empty", PathRotate, "text/plain", "", origin("https://evil.example"), 403},
		{"rotate text/plain empty, no Origin", PathRotate, "text/plain", "", nil, 415},
		{"rotate text/plain, no Origin", PathRotate, "text/plain", `{}`, nil, 415},
		{"rotate multipart, no Origin", PathRotate, "multipart/form-data; boundary=x", "", nil, 415},
		{"rotate form empty, foreign Origin", PathRotate, "application/x-www-form-urlencoded", "", origin("https://evil.example"), 403},
		{"rotate form empty, own Origin", PathRotate, "application/x-www-form-urlencoded", "", origin(own), 415},
		{"rotate empty, no type, no Origin", PathRotate, "", "", nil, 200},
		{"rotate JSON, own Origin", PathRotate, "application/json; charset=utf-8", `{}`, origin(own), 200},
		{"rotate two Origins", PathRotate, "application/json", `{}`, http.Header{"Origin": {own, own}}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.tenant.keys.current().kid
			resp, raw := f.do(http.MethodPost, tc.path, tc.contentType, tc.body, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if tc.status == 200 {
				return
			}
			if body := decodeObject(t, raw); body["error"] == nil || body["error_description"] == nil {
				t.Fatalf("body %v", body)
			}
			if tc.path == PathRotate && f.tenant.keys.current().kid != before {
				t.Fatal("a refused rotation rotated")
			}
		})
	}
}

// TestDevOriginWithTrustProxy checks that a forwarded host cannot make a rebinding page's origin the tenant's own.
func TestDevOriginWithTrustProxy(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{TrustProxy: true, AllowedHosts: []string{"127.0.0.1", "tenant.test"}})
	tests := []struct {
		name, forwarded, origin string
		status                  int
	}{
		{"rebinding page via the proxy", "evil.example", "http://evil.example", 403},
		{"allowed public name via the proxy", "tenant.test", "https://tenant.test", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Origin": {tc.origin}, "X-Forwarded-Host": {tc.forwarded}, "X-Forwarded-Proto": {"https"}}
			if !strings.HasPrefix(tc.origin, "https") {
				h.Set("X-Forwarded-Proto", "http")
			}
			resp, raw := f.do(http.MethodPost, PathMint, "application/json", `{}`, h)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
		})
	}
}

// TestClientAuthNoEnumeration checks that an unknown client id, a missing secret and a wrong one get the same
// status and description (up to the id the caller sent itself), by form and by HTTP Basic.
func TestClientAuthNoEnumeration(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	basic := func(id, secret string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
	}
	tests := []struct {
		name, body string
		header     http.Header
	}{
		{"unknown id", "client_id=ghost&client_secret=x", nil},
		{"wrong secret", "client_id=ghost&client_secret=x", nil}, // replaced below with a known id
		{"missing secret", "client_id=ghost", nil},
		{"unknown id, basic", "", basic("ghost", "x")},
		{"wrong secret, basic", "", basic("ghost", "y")},
		{"unknown id, no secret", "client_id=ghost", nil},
	}
	var first string
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, header := tc.body, tc.header
			if strings.HasPrefix(tc.name, "wrong secret") || tc.name == "missing secret" {
				// The same answer for a real client: only the id differs, and the id is the caller's own input.
				body = strings.ReplaceAll(body, "ghost", "quickstart-read")
				if header != nil {
					header = basic("quickstart-read", "wrong")
				}
			}
			form := "grant_type=client_credentials&audience=" + url.QueryEscape(testAudience)
			if body != "" {
				form += "&" + body
			}
			resp, raw := f.do(http.MethodPost, PathToken, "application/x-www-form-urlencoded", form, header)
			got := decodeObject(t, raw)
			if resp.StatusCode != http.StatusUnauthorized || got["error"] != "invalid_client" {
				t.Fatalf("%d %v, want 401 invalid_client", resp.StatusCode, got)
			}
			desc := strings.ReplaceAll(got["error_description"].(string), "quickstart-read", "ghost")
			if i == 0 {
				first = desc
				return
			}
			if desc != first {
				t.Fatalf("description %q differs from the unknown client's %q", desc, first)
			}
		})
	}
}

func TestDeviceCodesBounded(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.Clients = append(cfg.Clients, Client{ID: "cli2", Public: true}, Client{ID: "cli3", Public: true})
	f := start(t, cfg, Options{Now: clock.Now, DeviceCodeTTL: time.Minute, MaxPendingDevices: 5, MaxPendingDevicesPerClient: 3})
	code := func(client string) (*http.Response, map[string]any) {
		return f.deviceCode(url.Values{"client_id": {client}, "audience": {testAudience}})
	}
	steps := []struct {
		name   string
		client string
		after  time.Duration
		status int
		desc   string
	}{
		{"cli 1", "cli", 0, 200, ""},
		{"cli 2", "cli", 0, 200, ""},
		{"cli 3", "cli", 0, 200, ""},
		{"cli 4: per-client bound", "cli", 0, 429, `client "cli" has 3 device authorizations outstanding`},
		{"cli2 1", "cli2", 0, 200, ""},
		{"cli2 2", "cli2", 0, 200, ""},
		{"cli3 1: total bound", "cli3", 0, 429, "the tenant has 5 device authorizations outstanding"},
		{"cli after expiry: per-client count drops", "cli", 61 * time.Second, 429, "the tenant has 5"},
		{"after the grace period: swept", "cli3", 61 * time.Second, 200, ""},
	}
	for _, st := range steps {
		clock.Advance(st.after)
		resp, body := code(st.client)
		if resp.StatusCode != st.status {
			t.Fatalf("%s: %d %v, want %d", st.name, resp.StatusCode, body, st.status)
		}
		if st.status == 429 {
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if body["error"] != "slow_down" || !strings.Contains(body["error_description"].(string), st.desc) || err != nil || ra < 1 {
				t.Fatalf("%s: %v, Retry-After %q", st.name, body, resp.Header.Get("Retry-After"))
			}
		}
	}
	// The default bounds are what the documentation says.
	if DefaultMaxPendingDevicesPerClient != 100 || DefaultMaxPendingDevices != 1000 {
		t.Fatal("default device bounds changed")
	}
	def := start(t, nil, Options{})
	for i := range DefaultMaxPendingDevicesPerClient {
		if resp, body := def.deviceCode(url.Values{"client_id": {"cli"}, "audience": {testAudience}}); resp.StatusCode != 200 {
			t.Fatalf("code %d: %d %v", i, resp.StatusCode, body)
		}
	}
	resp, body := def.deviceCode(url.Values{"client_id": {"cli"}, "audience": {testAudience}})
	wantOAuthError(t, resp, body, http.StatusTooManyRequests, "slow_down")
}

func TestActivateThrottled(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := start(t, nil, Options{Now: clock.Now, DeviceCodeTTL: 10 * time.Minute})
	userCode := f.startDevice("")["user_code"].(string)
	post := func(user, password string) (*http.Response, string) {
		v := url.Values{"user_code": {userCode}, "username": {user}, "password": {password}, "action": {"approve"}}
		resp, b := f.do(http.MethodPost, PathActivate, "application/x-www-form-urlencoded", v.Encode(), nil)
		return resp, string(b)
	}
	steps := []struct {
		name, user, password string
		after                time.Duration
		status               int
		want                 string
	}{
		{"failure 1", "alice", "x", 0, 403, "Wrong username or password."},
		{"failure 2", "alice", "x", 0, 403, "Wrong username or password."},
		{"failure 3", "alice", "x", 0, 403, "Wrong username or password."},
		{"failure 4", "alice", "x", 0, 403, "Wrong username or password."},
		{"failure 5", "alice", "x", 10 * time.Second, 403, "Wrong username or password."},
		{"6th: throttled even with the right password", "alice", "alice-password", 0, 429, "Too many failed sign-in attempts. Wait 50 seconds"},
		{"another user from the same address: throttled too", "bob", "x", 0, 429, "Too many failed sign-in attempts."},
		{"the window moves on", "alice", "alice-password", 51 * time.Second, 200, "Device approved."},
	}
	for _, st := range steps {
		clock.Advance(st.after)
		resp, page := post(st.user, st.password)
		if resp.StatusCode != st.status || !strings.Contains(page, st.want) {
			t.Fatalf("%s: %d, want %d with %q:\n%s", st.name, resp.StatusCode, st.status, st.want, page)
		}
		if st.status == 429 {
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
				t.Fatalf("%s: Retry-After %q", st.name, resp.Header.Get("Retry-After"))
			}
		}
	}
}

func TestAttemptLimiterPerKeyAndBounded(t *testing.T) {
	t.Parallel()
	now := time.Now()
	l := newAttemptLimiter(2, time.Minute, 4)
	l.fail(now, "user:a", "addr:1")
	l.fail(now, "user:a", "addr:2")
	tests := []struct {
		name string
		keys []string
		wait bool
	}{
		{"user a at the limit", []string{"user:a", "addr:3"}, true},
		{"addr 1 below it", []string{"user:b", "addr:1"}, false},
	}
	for _, tc := range tests {
		if got := l.wait(now, tc.keys...) > 0; got != tc.wait {
			t.Errorf("%s: throttled %v, want %v", tc.name, got, tc.wait)
		}
	}
	l.fail(now, "user:c") // the fourth key fills the limiter
	if l.wait(now, "user:new") == 0 {
		t.Error("a new key beyond maxKeys was not throttled (fail closed)")
	}
	if l.wait(now.Add(time.Minute), "user:a", "user:new") != 0 {
		t.Error("failures outside the window still count")
	}
}

func TestKeyFileModeWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.pem")
	if _, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", KeyFile: file}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"0600", 0o600, false},
		{"0644", 0o644, true},
		{"0640", 0o640, true},
		{"0604", 0o604, true},
		{"0400", 0o400, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Chmod(file, tc.mode); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			_, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", KeyFile: file,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), file) &&
				strings.Contains(logs.String(), "chmod 600 "+file)
			if warned != tc.warn {
				t.Fatalf("warned %v, want %v:\n%s", warned, tc.warn, logs.String())
			}
		})
	}
}

func TestKeyFileErrorsSayPEM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          []string
	}{
		{"JSON", `{"keys":[]}`, []string{"not a usable PEM key file", "looks like JSON"}},
		{"garbage", "hello", []string{"not a usable PEM key file", "no PEM"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", KeyFile: file})
			kfe, ok := errors.AsType[*KeyFileError](err)
			if !ok || kfe.File != file || kfe.Op != KeyFileRead || !kfe.Unusable {
				t.Fatalf("err %v, want an unusable *KeyFileError for %s", err, file)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			assertNoFlagNames(t, err.Error())
		})
	}
}

// TestAttemptCountsBeforeTheCheck: concurrent password checks are counted as they start, so at most the limit of
// them pass however they interleave; a success takes its count back.
func TestAttemptCountsBeforeTheCheck(t *testing.T) {
	t.Parallel()
	l := newAttemptLimiter(5, time.Minute, 100)
	now := time.Now()
	var mu sync.Mutex
	var passed []func(bool)
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if wait, done := l.attempt(now, "user:a", "addr:1"); wait == 0 {
				mu.Lock()
				passed = append(passed, done)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(passed) != 5 {
		t.Fatalf("%d concurrent guesses were let through, want 5", len(passed))
	}
	passed[0](true) // that one was the right password: its attempt is not a failure
	if wait, _ := l.attempt(now, "user:a", "addr:1"); wait != 0 {
		t.Fatalf("after a success one more attempt must be allowed, wait %s", wait)
	}
	if wait, _ := l.attempt(now, "user:a"); wait == 0 {
		t.Fatal("the limit is reached again, yet an attempt was let through")
	}
}

// wait and fail are the limiter's two halves taken one at a time, for tests of its bookkeeping; handlers use
// attempt, which takes both under one lock.
func (l *attemptLimiter) wait(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(now, keys...)
}

func (l *attemptLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failLocked(now, keys...)
}
