package auth

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tokencheck/tokencheck/internal/testissuer"
)

func init() { gin.SetMode(gin.TestMode) }

// quietLogger drops logs so test output stays readable.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newValidator builds a Validator for iss with test-friendly defaults; edit may adjust the config.
func newValidator(tb testing.TB, iss *testissuer.Issuer, edit func(*Config), opts ...Option) *Validator {
	tb.Helper()
	cfg := Config{
		Issuer:        iss.URL,
		Audiences:     []string{testissuer.Audience},
		AllowInsecure: true,
		ClockSkew:     DefaultClockSkew,
		CacheSize:     DefaultCacheSize,
		Logger:        quietLogger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	opts = append([]Option{WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond), WithHTTPTimeout(2 * time.Second)}, opts...)
	v, err := New(context.Background(), cfg, opts...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { _ = v.Close() })
	return v
}

// waitReady polls until v has loaded keys, failing after a generous bound.
func waitReady(tb testing.TB, v *Validator) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !v.Ready() {
		if time.Now().After(deadline) {
			tb.Fatal("validator never became ready")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// eventually polls cond until it holds, failing after a generous bound.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// apiServer serves the scoped and unscoped routes behind v's middleware on a loopback httptest server.
func apiServer(tb testing.TB, v *Validator) *httptest.Server {
	tb.Helper()
	r := gin.New()
	private := func(c *gin.Context) {
		claims, ok := ClaimsFrom(c)
		if !ok {
			c.JSON(http.StatusInternalServerError, gin.H{"message": "no claims"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"sub": claims.Subject})
	}
	r.GET("/api/private", v.Middleware(), private)
	r.POST("/api/private", v.Middleware(), private)
	r.GET("/api/private-scoped", v.Middleware(), RequireScope("read:messages"), private)
	srv := httptest.NewServer(r)
	tb.Cleanup(srv.Close)
	return srv
}
