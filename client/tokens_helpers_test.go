package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

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

// tokAPI is a loopback API with the contract's three routes, verifying RS256 tokens against the tenant's JWKS
// (iss, aud, exp) and answering 401/403 with RFC 6750 challenges.
func tokAPI(t *testing.T, issuer string) *httptest.Server {
	t.Helper()
	resp, err := http.Get(issuer + ".well-known/jwks.json") //nolint:noctx // test setup
	if err != nil {
		t.Fatalf("fetch JWKS: %v", err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read JWKS: %v", err)
	}
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	check := func(w http.ResponseWriter, r *http.Request, scope string) bool {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_request","message":"no token"}`))
			return false
		}
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(tok, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}),
			jwt.WithIssuer(issuer), jwt.WithAudience(tokAudience), jwt.WithExpirationRequired())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="bad token"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_token"}`))
			return false
		}
		s, _ := claims["scope"].(string)
		if scope != "" && !slices.Contains(strings.Fields(s), scope) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope", scope="`+scope+`"`)
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"insufficient_scope"}`))
			return false
		}
		return true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/public", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message":"Hello from a public endpoint! You don't need to be authenticated to see this."}`))
	})
	mux.HandleFunc("GET /api/private", func(w http.ResponseWriter, r *http.Request) {
		if check(w, r, "") {
			_, _ = w.Write([]byte(`{"message":"Hello from a private endpoint! You need to be authenticated to see this."}`))
		}
	})
	mux.HandleFunc("GET /api/private-scoped", func(w http.ResponseWriter, r *http.Request) {
		if check(w, r, "read:messages") {
			_, _ = w.Write([]byte(`{"message":"Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."}`))
		}
	})
	srv := httptest.NewServer(mux)
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
