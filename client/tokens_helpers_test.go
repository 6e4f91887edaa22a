package main

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

const tokAudience = "https://quickstarts/api"

// tokTenant starts the stand-in tenant (default config) on loopback with a short device polling interval and
// returns its server; the issuer is srv.URL + "/".
func tokTenant(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	tn, err := tenant.New(tenant.DefaultConfig(), tenant.Options{Issuer: srv.URL + "/", DevicePollInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("tenant.New: %v", err)
	}
	srv.Config.Handler = tn.Handler()
	return srv
}

// tokAPI is the real API (pkg/api router with the pkg/auth validator) trusting issuer, on a loopback server.
func tokAPI(t *testing.T, issuer string) *httptest.Server {
	t.Helper()
	v, err := auth.New(t.Context(), auth.Config{
		ClockSkew:     auth.DefaultClockSkew,
		Issuer:        issuer,
		Audiences:     []string{tokAudience},
		AllowInsecure: true,
		CacheSize:     64,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !v.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the validator never loaded the tenant's key set")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv := httptest.NewServer(api.NewRouter(api.Options{Auth: v, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv
}

// tokSyncBuffer is a buffer a running command writes while the test reads it.
type tokSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *tokSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *tokSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tokRun runs the CLI with env as the whole environment, as a user would.
func tokRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb tokSyncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = a.run(t.Context(), args)
	return code, out.String(), errb.String()
}

// tokEnv is the environment of a user pointed at the stand-in tenant with client id/secret, and a private cache.
func tokEnv(t *testing.T, issuer, api, id, secret string) map[string]string {
	t.Helper()
	return map[string]string{
		"ISSUER_URL": issuer, "AUTH0_AUDIENCE": tokAudience, "AUTH0_CLIENT_ID": id, "AUTH0_CLIENT_SECRET": secret,
		"API_URL": api, "XDG_CACHE_HOME": t.TempDir(),
	}
}
