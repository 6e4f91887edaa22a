package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/testissuer"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

func init() { gin.SetMode(gin.TestMode) }

// fixture is the real router with the real validator in front of a loopback issuer.
type fixture struct {
	iss    *testissuer.Issuer
	v      *auth.Validator
	router *gin.Engine
	srv    *httptest.Server
	reg    *prometheus.Registry
	logs   *testhttp.SyncBuffer
}

type fixtureConfig struct {
	cacheSize  int
	origins    []string
	scope      string
	issuerDown bool
	logger     *slog.Logger
}

func newFixture(tb testing.TB, fc fixtureConfig) *fixture {
	tb.Helper()
	f := &fixture{iss: testissuer.New(tb), reg: prometheus.NewRegistry(), logs: &testhttp.SyncBuffer{}}
	if fc.issuerDown {
		f.iss.SetDown(true)
	}
	logger := fc.logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(f.logs, nil))
	}
	v, err := auth.New(context.Background(), auth.Config{
		ClockSkew:     auth.DefaultClockSkew,
		Issuer:        f.iss.URL,
		Audiences:     []string{testissuer.Audience},
		AllowInsecure: true,
		CacheSize:     fc.cacheSize,
		Logger:        logger,
		Registerer:    f.reg,
	}, auth.WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond),
		auth.WithHTTPTimeout(2*time.Second),
		auth.WithUnknownKIDRefetch(10*time.Millisecond, 1, 500*time.Millisecond))
	if err != nil {
		tb.Fatalf("auth.New: %v", err)
	}
	tb.Cleanup(func() { _ = v.Close() })
	f.v = v
	f.router = NewRouter(Options{Auth: v, RequiredScope: fc.scope, AllowedOrigins: fc.origins, Logger: logger, Registry: f.reg})
	f.srv = httptest.NewServer(f.router)
	tb.Cleanup(f.srv.Close)
	if !fc.issuerDown {
		eventually(tb, "validator ready", v.Ready)
	}
	return f
}

// eventually polls cond until it holds, failing after a generous bound.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return m
}

// do sends one real HTTP request to the fixture's server.
func (f *fixture) do(tb testing.TB, method, path string, header http.Header) reply {
	tb.Helper()
	return send(tb, f.srv, method, path, header)
}

func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

func get(tb testing.TB, srv *httptest.Server, path string, header http.Header) reply {
	tb.Helper()
	return send(tb, srv, http.MethodGet, path, header)
}

// send makes one real HTTP request to srv.
func send(tb testing.TB, srv *httptest.Server, method, path string, header http.Header) reply {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: body}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func invalidToken(r auth.Reason) string {
	return `Bearer realm="api", error="invalid_token", error_description="` + r.Description() + `"`
}

func mustContainAll(tb testing.TB, what, got string, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			tb.Errorf("%s %q lacks %q", what, got, w)
		}
	}
}

func newJSONLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// rawGet writes a GET with one extra header line straight onto a TCP connection, for bytes http.Client refuses
// to send, and returns the status code.
func rawGet(tb testing.TB, srv *httptest.Server, path, headerLine string) int {
	tb.Helper()
	return testhttp.RawGet(tb, srv.Listener.Addr().String(), path, headerLine)
}
