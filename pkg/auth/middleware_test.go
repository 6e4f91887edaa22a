package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/testissuer"
)

type httpAnswer struct {
	status    int
	challenge string
	body      errorBody
	raw       string
	header    http.Header
}

func call(t *testing.T, method, u string, header http.Header, body string) httpAnswer {
	t.Helper()
	resp, raw := testhttp.Send(t, method, u, header, body)
	a := httpAnswer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), raw: string(raw), header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func TestMiddlewareStatusTable(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, nil)
	waitReady(t, v)
	srv := apiServer(t, v)
	good := iss.Token(t, nil)
	noScope := iss.Token(t, func(c map[string]any) { delete(c, "scope") })
	expired := iss.Token(t, func(c map[string]any) { c["exp"] = c["iat"].(int64) - 3600 })
	bearer := func(s string) http.Header { return http.Header{"Authorization": {s}} }
	const form = "application/x-www-form-urlencoded"

	tests := []struct {
		name      string
		method    string
		path      string
		header    http.Header
		body      string
		status    int
		challenge string
		errCode   string
	}{
		{"valid token", "GET", "/api/private", bearer("Bearer " + good), "", 200, "", ""},
		{"scheme any case", "GET", "/api/private", bearer("bEaReR " + good), "", 200, "", ""},
		{"no header", "GET", "/api/private", nil, "", 401, `Bearer realm="api"`, ""},
		{"basic scheme", "GET", "/api/private", bearer("Basic dXNlcjpwYXNz"), "", 401, `Bearer realm="api"`, ""},
		{"bearer without token", "GET", "/api/private", bearer("Bearer"), "", 401, `Bearer realm="api"`, ""},
		{"bearer blank", "GET", "/api/private", bearer("Bearer    "), "", 401, `Bearer realm="api"`, ""},
		{"blank header", "GET", "/api/private", bearer(" "), "", 401, `Bearer realm="api"`, ""},
		{"token in query only", "GET", "/api/private?access_token=" + good, nil, "", 401, `Bearer realm="api"`, ""},
		{"not a JWT", "GET", "/api/private", bearer("Bearer abc"), "", 401,
			`Bearer realm="api", error="invalid_token", error_description="token is malformed"`, "invalid_token"},
		{"two words", "GET", "/api/private", bearer("Bearer a b"), "", 401,
			`Bearer realm="api", error="invalid_token", error_description="token is malformed"`, "invalid_token"},
		{"expired", "GET", "/api/private", bearer("Bearer " + expired), "", 401,
			`Bearer realm="api", error="invalid_token", error_description="token is expired"`, "invalid_token"},
		{"header and query", "GET", "/api/private?access_token=" + good, bearer("Bearer " + good), "", 400,
			`Bearer realm="api", error="invalid_request", error_description="token sent in more than one place"`, "invalid_request"},
		{"header and form", "POST", "/api/private", http.Header{"Authorization": {"Bearer " + good}, "Content-Type": {form}},
			"access_token=" + good, 400,
			`Bearer realm="api", error="invalid_request", error_description="token sent in more than one place"`, "invalid_request"},
		{"query and form", "POST", "/api/private?access_token=" + good, http.Header{"Content-Type": {form}}, "access_token=" + good, 400,
			`Bearer realm="api", error="invalid_request", error_description="token sent in more than one place"`, "invalid_request"},
		{"header and unrelated form", "POST", "/api/private", http.Header{"Authorization": {"Bearer " + good}, "Content-Type": {form}},
			"name=value", 200, "", ""},
		{"form alone", "POST", "/api/private", http.Header{"Content-Type": {form}}, "access_token=" + good, 401, `Bearer realm="api"`, ""},
		{"two query tokens", "GET", "/api/private?access_token=a&access_token=b", nil, "", 400,
			`Bearer realm="api", error="invalid_request", error_description="token sent in more than one place"`, "invalid_request"},
		{"two authorization headers", "GET", "/api/private", http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, "", 400,
			`Bearer realm="api", error="invalid_request", error_description="token sent in more than one place"`, "invalid_request"},
		{"scoped with scope", "GET", "/api/private-scoped", bearer("Bearer " + good), "", 200, "", ""},
		{"scoped without scope", "GET", "/api/private-scoped", bearer("Bearer " + noScope), "", 403,
			`Bearer realm="api", error="insufficient_scope", error_description="token lacks the required scope", scope="read:messages"`, "insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.method, srv.URL+tt.path, tt.header, tt.body)
			if a.status != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", a.status, tt.status, a.raw)
			}
			if a.challenge != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", a.challenge, tt.challenge)
			}
			if a.status != 200 {
				if a.body.Error != tt.errCode {
					t.Errorf("body error = %q, want %q", a.body.Error, tt.errCode)
				}
				if a.body.Message == "" {
					t.Errorf("body has no message: %s", a.raw)
				}
				if strings.Contains(a.raw, good) {
					t.Error("error body echoes the token")
				}
			}
		})
	}
}

func TestMiddlewareKeysNeverLoaded(t *testing.T) {
	iss := testissuer.New(t)
	iss.SetDown(true)
	v := newValidator(t, iss, nil)
	srv := apiServer(t, v)
	a := call(t, "GET", srv.URL+"/api/private", http.Header{"Authorization": {"Bearer " + iss.Token(t, nil)}}, "")
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503 (body %s)", a.status, a.raw)
	}
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if a.challenge != "" {
		t.Errorf("503 carries a challenge %q", a.challenge)
	}
	if v.Ready() {
		t.Error("Ready() = true while the tenant is down")
	}
}

func TestLogAttrsAndMetrics(t *testing.T) {
	iss := testissuer.New(t)
	var logs strings.Builder
	var mu sync.Mutex
	reg := prometheus.NewRegistry()
	v := newValidator(t, iss, func(c *Config) {
		c.Registerer = reg
		c.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))
	})
	waitReady(t, v)
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		attrs := LogAttrs(c)
		args := make([]any, 0, len(attrs))
		for _, a := range attrs {
			args = append(args, a)
		}
		v.log.Info("request", append(args, "status", c.Writer.Status())...)
	})
	r.GET("/p", v.Middleware(), RequireScope("read:messages"), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.OPTIONS("/p", v.Middleware(), RequireScope("read:messages"), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	good := iss.Token(t, nil)
	expired := iss.Token(t, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
	noScope := iss.Token(t, func(c map[string]any) { c["scope"] = "write:messages" })
	otherIss := iss.Token(t, func(c map[string]any) { c["iss"] = strings.TrimSuffix(iss.URL, "/") })
	otherAud := iss.Token(t, func(c map[string]any) { c["aud"] = []string{"https://other/api", "https://third/api"} })
	tests := []struct {
		name   string
		method string
		auth   string
		status int
		want   []string
	}{
		// A setup mistake shows both sides: what the token carried and what the API expects.
		{"issuer", "GET", "Bearer " + otherIss, 401, []string{`"reason":"bad_issuer"`,
			`"token_iss":"` + strings.TrimSuffix(iss.URL, "/") + `"`, `"expected_iss":"` + iss.URL + `"`}},
		{"audience", "GET", "Bearer " + otherAud, 401, []string{`"reason":"bad_audience"`,
			`"token_aud":"https://other/api,https://third/api"`, `"expected_aud":"`}},
		{"ok", "GET", "Bearer " + good, 204, []string{`"sub":"test-client@clients"`, `"kid":"key-1"`}},
		{"expired", "GET", "Bearer " + expired, 401, []string{`"reason":"expired"`, `"kid":"key-1"`, `"sub":"test-client@clients"`}},
		{"no token", "GET", "", 401, []string{`"reason":"no_token"`}},
		{"scope", "GET", "Bearer " + noScope, 403, []string{`"reason":"insufficient_scope"`}},
		{"options passes", "OPTIONS", "", 204, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			logs.Reset()
			mu.Unlock()
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			if a := call(t, tt.method, srv.URL+"/p", h, ""); a.status != tt.status {
				t.Fatalf("status %d, want %d", a.status, tt.status)
			}
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("log %s lacks %s", out, w)
				}
			}
			for _, tok := range []string{good, expired, noScope, otherIss, otherAud} {
				if strings.Contains(out, tok) || strings.Contains(out, strings.Split(tok, ".")[2]) {
					t.Fatal("a token reached the log")
				}
			}
		})
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if m.GetCounter().GetValue() > 0 {
					seen[f.GetName()+"/"+l.GetValue()] = true
				}
			}
		}
	}
	for _, want := range []string{"tokencheck_auth_failures_total/expired", "tokencheck_auth_failures_total/no_token",
		"tokencheck_auth_failures_total/insufficient_scope", "tokencheck_jwks_refreshes_total/ok"} {
		if !seen[want] {
			t.Errorf("metric %s not counted (have %v)", want, seen)
		}
	}
	// A second validator on the same registry shares the collectors instead of failing.
	v2, err := New(context.Background(), Config{Issuer: iss.URL, Audiences: []string{"a"}, AllowInsecure: true, Registerer: reg, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("second validator on one registry: %v", err)
	}
	_ = v2.Close()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestMalformedBeforeKeysLoad(t *testing.T) {
	iss := testissuer.New(t)
	iss.SetDown(true)
	v := newValidator(t, iss, nil)
	srv := apiServer(t, v)
	tests := []struct {
		auth   string
		status int
	}{
		{"Bearer abc", http.StatusUnauthorized},
		{"Bearer " + iss.Token(t, func(c map[string]any) {}), http.StatusServiceUnavailable},
		{"", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.auth != "" {
			h.Set("Authorization", tt.auth)
		}
		if a := call(t, "GET", srv.URL+"/api/private", h, ""); a.status != tt.status {
			t.Errorf("%.20q: status %d, want %d", tt.auth, a.status, tt.status)
		}
	}
}

// TestClaimsLiveInTheRequestContext: after Middleware, plain net/http code finds the claims where go-jwt-middleware
// put them, through the one accessor, and Gin code finds the same value.
func TestClaimsLiveInTheRequestContext(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, nil)
	waitReady(t, v)
	r := gin.New()
	r.GET("/h", v.Middleware(), func(c *gin.Context) {
		fromGin, _ := ClaimsFrom(c)
		c.Next()
		if fromCtx, _ := ClaimsFromContext(c.Request.Context()); fromCtx != fromGin {
			t.Error("Gin and the request context disagree on the claims")
		}
	}, gin.WrapH(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, claims.Subject)
	})))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	a := call(t, "GET", srv.URL+"/h", http.Header{"Authorization": {"Bearer " + iss.Token(t, nil)}}, "")
	if a.status != http.StatusOK || a.raw != "test-client@clients" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if _, ok := ClaimsFromContext(context.Background()); ok {
		t.Error("claims found in an empty context")
	}
}
