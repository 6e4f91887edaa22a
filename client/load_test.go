package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/testissuer"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// loadTenant starts the stand-in tenant on a loopback server and returns its issuer URL.
func loadTenant(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	tn, err := tenant.New(tenant.DefaultConfig(), tenant.Options{Issuer: srv.URL + "/"})
	if err != nil {
		t.Fatalf("tenant.New: %v", err)
	}
	srv.Config.Handler = tn.Handler()
	return srv.URL + "/"
}

// loadAPI is a loopback API for load tests. With an issuer it verifies every bearer token against the issuer's
// JWKS (RS256, iss, aud) and answers 200 or 401; without one it answers 200 to all. It records the tokens it saw.
type loadAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	seen   map[string]int
	noAuth int
	bad    int
}

func newLoadAPI(t *testing.T, issuer string) *loadAPI {
	t.Helper()
	var kf keyfunc.Keyfunc
	if issuer != "" {
		resp, err := http.Get(issuer + ".well-known/jwks.json") //nolint:noctx // test setup
		if err != nil {
			t.Fatalf("fetch JWKS: %v", err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read JWKS: %v", err)
		}
		if kf, err = keyfunc.NewJWKSetJSON(raw); err != nil {
			t.Fatalf("JWKS: %v", err)
		}
	}
	api := &loadAPI{seen: map[string]int{}}
	api.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		ok := true
		if kf != nil {
			_, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}),
				jwt.WithIssuer(issuer), jwt.WithAudience(testissuer.Audience), jwt.WithExpirationRequired())
			ok = hasTok && err == nil
		}
		api.mu.Lock()
		switch {
		case !hasTok:
			api.noAuth++
		case ok:
			api.seen[tok]++
		default:
			api.bad++
		}
		api.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"message":"ok"}`))
	}))
	t.Cleanup(api.srv.Close)
	return api
}

func (api *loadAPI) counts() (distinct, noAuth, bad int) {
	api.mu.Lock()
	defer api.mu.Unlock()
	return len(api.seen), api.noAuth, api.bad
}

// runLoadCLI runs "client load args..." as a user would, with env as the whole environment.
func runLoadCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = a.run(t.Context(), append([]string{"load"}, args...))
	return code, out.String(), errb.String()
}

// loadJSON is the part of the JSON report the CLI tests read.
type loadJSON struct {
	URL          string            `json:"url"`
	Requests     uint64            `json:"requests"`
	Successes    uint64            `json:"successes"`
	Tokens       int               `json:"tokens"`
	SuccessRatio float64           `json:"success_ratio"`
	StatusCodes  map[string]uint64 `json:"status_codes"`
}

func decodeLoadJSON(t *testing.T, stdout string) loadJSON {
	t.Helper()
	var r loadJSON
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	return r
}

// quick is a short, fixed amount of load: 60 requests, however slow the machine.
var quick = []string{"--rate", "0", "--workers", "2", "--duration", "1m", "--requests", "60", "--format", "json"}

func TestLoadFlagErrorsExit2(t *testing.T) {
	tenantURL := loadTenant(t)
	plain := testissuer.New(t) // a real issuer without mint_endpoint
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"token and no-token", nil, []string{"--token", "x", "--no-token"}, "contradict"},
		{"unique with token", nil, []string{"--unique-tokens", "5", "--token", "x"}, "--unique-tokens mints"},
		{"bad format", nil, []string{"--no-token", "--format", "xml"}, "--format"},
		{"negative rate", nil, []string{"--no-token", "--rate", "-1"}, "--rate"},
		{"zero duration", nil, []string{"--no-token", "--duration", "0s"}, "--duration"},
		{"zero workers", nil, []string{"--no-token", "--workers", "0"}, "--workers"},
		{"negative requests", nil, []string{"--no-token", "--requests", "-1"}, "--requests"},
		{"relative path", nil, []string{"--no-token", "--path", "api/public"}, "--path"},
		{"bad api", nil, []string{"--no-token", "--api", "ftp://example"}, "--api"},
		{"unknown flag", nil, []string{"--speed", "9"}, "unknown flag"},
		{"no token source", nil, []string{}, "--issuer"},
		{"unique without the stand-in", map[string]string{"ISSUER_URL": plain.URL}, []string{"--unique-tokens", "3"}, "stand-in"},
		{"real tenant without credentials", map[string]string{"ISSUER_URL": plain.URL}, []string{}, "--client-id"},
		{"tenant unreachable", map[string]string{"ISSUER_URL": "http://127.0.0.1:1/"}, []string{}, "--issuer"},
		{"bad client secret", map[string]string{"ISSUER_URL": tenantURL, "AUTH0_AUDIENCE": testissuer.Audience},
			[]string{"--client-id", "quickstart-read", "--client-secret", "wrong"}, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLoadCLI(t, tt.env, tt.args...)
			if code != exitCannotGo {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing when the run could not start", stdout)
			}
		})
	}
}

func TestLoadNoToken(t *testing.T) {
	api := newLoadAPI(t, "")
	code, stdout, stderr := runLoadCLI(t, map[string]string{"API_URL": api.srv.URL},
		append([]string{"--no-token", "--path", "/api/public"}, quick...)...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	r := decodeLoadJSON(t, stdout)
	_, noAuth, _ := api.counts()
	if r.Requests == 0 || uint64(noAuth) != r.Requests || r.StatusCodes["200"] != r.Requests || r.Tokens != 0 {
		t.Errorf("report %+v, server saw %d unauthenticated requests", r, noAuth)
	}
	if r.URL != api.srv.URL+"/api/public" {
		t.Errorf("url %q, want the API plus --path", r.URL)
	}
	if !strings.Contains(stderr, "requests ") {
		t.Errorf("no progress line on stderr: %q", stderr)
	}
}

func TestLoadGivenToken(t *testing.T) {
	api := newLoadAPI(t, "")
	code, stdout, stderr := runLoadCLI(t, map[string]string{"API_URL": api.srv.URL},
		append([]string{"--token", "given-token"}, quick...)...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	r := decodeLoadJSON(t, stdout)
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.seen) != 1 || uint64(api.seen["given-token"]) != r.Requests || r.Tokens != 1 {
		t.Errorf("server saw %v for %d requests, want only the given token", api.seen, r.Requests)
	}
	if strings.Contains(stderr, "given-token") || strings.Contains(stdout, "given-token") {
		t.Error("the token was printed")
	}
}

func TestLoadWithTheStandIn(t *testing.T) {
	tenantURL := loadTenant(t)
	tests := []struct {
		name       string
		args       []string
		wantTokens int
	}{
		{"unique tokens minted", []string{"--unique-tokens", "20"}, 20},
		{"one minted token", nil, 1},
		{"client credentials", []string{"--client-id", "quickstart-read", "--client-secret", "read-secret"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newLoadAPI(t, tenantURL)
			env := map[string]string{"API_URL": api.srv.URL, "ISSUER_URL": tenantURL, "AUTH0_AUDIENCE": testissuer.Audience}
			code, stdout, stderr := runLoadCLI(t, env, append(tt.args, quick...)...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			r := decodeLoadJSON(t, stdout)
			distinct, noAuth, bad := api.counts()
			if r.Tokens != tt.wantTokens || distinct != tt.wantTokens {
				t.Errorf("report says %d tokens, API verified %d distinct; want %d", r.Tokens, distinct, tt.wantTokens)
			}
			if noAuth != 0 || bad != 0 || r.SuccessRatio != 1 {
				t.Errorf("%d requests without a token, %d rejected, success %v: want every token valid", noAuth, bad, r.SuccessRatio)
			}
			if tt.wantTokens > 1 && !strings.Contains(stderr, "minting tokens 20/20") {
				t.Errorf("no minting progress on stderr: %q", stderr)
			}
		})
	}
}

func TestLoadExits1WhenNothingSucceeds(t *testing.T) {
	tenantURL := loadTenant(t)
	api := newLoadAPI(t, tenantURL)
	code, stdout, stderr := runLoadCLI(t, map[string]string{"API_URL": api.srv.URL},
		"--token", "not-a-jwt", "--rate", "0", "--workers", "2", "--requests", "10")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
	}
	for _, want := range []string{"requests/s", "success", "0.00%", "401: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "no request") {
		t.Errorf("stderr %q does not say nothing succeeded", stderr)
	}
}

func TestLoadInterruptedExits2WithAReport(t *testing.T) {
	api := newLoadAPI(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb testhttp.SyncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- a.run(ctx, []string{"load", "--api", api.srv.URL, "--no-token", "--rate", "50", "--duration", "1m", "--format", "json"})
	}()
	// Cancel once the progress line shows answers the client has received (not merely ones the server has sent:
	// those may still be in flight and are dropped as aborted), as a user pressing Ctrl-C after a moment would.
	received := regexp.MustCompile(`requests [1-9]`)
	for !received.MatchString(errb.String()) {
		select {
		case code := <-done:
			t.Fatalf("load ended (exit %d) before it was interrupted: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	code := <-done
	if code != exitCannotGo || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 2 and interrupted", code, errb.String())
	}
	if r := decodeLoadJSON(t, out.String()); r.Requests == 0 {
		t.Errorf("report of an interrupted run counts no requests: %s", out.String())
	}
}

func TestLoadNotesUnsentTokens(t *testing.T) {
	tenantURL := loadTenant(t)
	api := newLoadAPI(t, tenantURL)
	env := map[string]string{"API_URL": api.srv.URL, "ISSUER_URL": tenantURL}
	code, _, stderr := runLoadCLI(t, env, "--unique-tokens", "30", "--rate", "10", "--duration", "200ms")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "for 30 tokens, so some tokens were never sent") {
		t.Errorf("stderr %q lacks the unsent-tokens note", stderr)
	}
}

func TestCountProgress(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		want string
	}{
		// every=1h: only the first call and the last print; the calls between are throttled.
		{"log", false, "minting tokens 1/3\nminting tokens 3/3\n"},
		{"terminal", true, "\rminting tokens 1/3\x1b[K\rminting tokens 3/3\x1b[K\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newCountProgress(&buf, tt.tty, "minting tokens", time.Hour)
			for done := 1; done <= 3; done++ {
				p(done, 3)
			}
			if buf.String() != tt.want {
				t.Errorf("progress %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

// TestLoadStopsWhenAPIUnreachable loads a dead API for a long --duration: the run stops after the first
// requests, exits 2 and says why, without hammering it for the whole duration.
func TestLoadStopsWhenAPIUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"stopped early", []string{"--no-token", "--duration", "30s", "--rate", "100"},
			[]string{"did not answer any of the first 20 requests", "connection refused", "stopped early instead of loading it for --duration 30s", "--api / API_URL"}},
		{"short run, all failed", []string{"--no-token", "--requests", "3", "--rate", "100"},
			[]string{"did not answer any of the 3 requests", "--api / API_URL"}},
		{"token in the path stays hidden", []string{"--no-token", "--duration", "30s", "--path", "/api?access_token=secret-in-path"},
			[]string{"access_token=[redacted]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, stdout, stderr := runLoadCLI(t, map[string]string{"API_URL": deadURL}, tc.args...)
			if code != exitCannotGo {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Fatalf("took %s: the dead API was loaded for the whole duration", elapsed)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if !strings.Contains(stdout, "no answer: ") || strings.Contains(stdout, "status      no answer") {
				t.Errorf("table:\n%s", stdout)
			}
			if strings.Contains(stdout+stderr, "secret-in-path") {
				t.Errorf("output leaked the token in --path:\n%s\n%s", stdout, stderr)
			}
		})
	}
}
