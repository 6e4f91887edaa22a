// Command brokenapi is a deliberately broken protected API, for tests only: it serves the routes of the real
// server but accepts any bearer token whose payload decodes as JSON, ignoring the signature, issuer, audience and
// expiry. The end-to-end run (scripts/e2e.sh with docker-compose.broken.yml) points the tester at it and must see
// the suite FAIL; if it ever passes, the tester has stopped catching forged tokens.
//
// It is never built into the server and shares no code with it.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := net.JoinHostPort("0.0.0.0", envOr("PORT", "3010"))
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(net.JoinHostPort("127.0.0.1", envOr("PORT", "3010"))))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, addr); err != nil {
		fmt.Fprintf(os.Stderr, "brokenapi: %v\n", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// serve runs the broken API on addr until ctx ends.
func serve(ctx context.Context, addr string) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "brokenapi: DELIBERATELY BROKEN test API listening on %s\n", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func routes() http.Handler {
	mux := http.NewServeMux()
	msg := func(text string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"message": text})
		}
	}
	ping := func(text string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"text": text})
		}
	}
	ok := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
	mux.HandleFunc("GET /api/public", msg("Hello from a public endpoint! You don't need to be authenticated to see this."))
	mux.Handle("GET /api/private", authed("", msg("Hello from a private endpoint! You need to be authenticated to see this.")))
	mux.Handle("GET /api/private-scoped", authed("read:messages", msg("Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.")))
	mux.HandleFunc("GET /ping", ping("All good. You don't need to be authenticated to call this"))
	mux.Handle("GET /secured/ping", authed("", ping("All good. You only get this message if you're authenticated")))
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", ok)
	return mux
}

// authed is the bug under test: it decodes the token's payload and trusts it, without verifying anything.
func authed(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		claims, err := payload(tok)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "token is malformed"})
			return
		}
		if scope != "" && !hasScope(claims, scope) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="api", error="insufficient_scope", scope=%q`, scope))
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func payload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not three segments")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return claims, nil
}

func hasScope(claims map[string]any, want string) bool {
	if s, ok := claims["scope"].(string); ok {
		for _, f := range strings.Fields(s) {
			if f == want {
				return true
			}
		}
	}
	if perms, ok := claims["permissions"].([]any); ok {
		for _, p := range perms {
			if p == want {
				return true
			}
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// healthcheck asks the local instance's /readyz, for the container's HEALTHCHECK (there is no curl in the image).
func healthcheck(addr string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return 1
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "brokenapi: healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
