package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/tokencheck/tokencheck/internal/jsonlog"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

// Benchmarks go through the whole Gin router (CORS, request id, metrics, JSON access log to io.Discard, auth)
// with httptest recorders, so they measure the server's per-request cost without the network.

func benchRouter(b *testing.B, cacheSize int) *fixture {
	b.Helper()
	return newFixture(b, fixtureConfig{cacheSize: cacheSize, logger: slog.New(jsonlog.NewHandler(io.Discard))}) // the server's own log handler
}

func serve(b *testing.B, f *fixture, path, token string, want int) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.router.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s: %d, want %d: %s", path, rec.Code, want, rec.Body)
	}
}

func BenchmarkPublic(b *testing.B) {
	f := benchRouter(b, auth.DefaultCacheSize)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, f, "/api/public", "", http.StatusOK)
	}
}

// BenchmarkPrivateReusedToken is the common case: one client reusing its token, served from the verified cache.
func BenchmarkPrivateReusedToken(b *testing.B) {
	f := benchRouter(b, auth.DefaultCacheSize)
	tok := f.iss.Token(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, f, "/api/private-scoped", tok, http.StatusOK)
	}
}

// BenchmarkPrivateUniqueTokens verifies a fresh RS256 signature on every request: tokens come from a pre-signed
// pool and the cache is disabled, so each request costs what a never-seen token costs.
func BenchmarkPrivateUniqueTokens(b *testing.B) {
	f := benchRouter(b, 0)
	pool := make([]string, 256)
	for i := range pool {
		pool[i] = f.iss.Token(b, func(c map[string]any) { c["jti"] = strconv.Itoa(i) })
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, f, "/api/private-scoped", pool[i%len(pool)], http.StatusOK)
		i++
	}
}

// BenchmarkPrivateRejected is the cost of turning away a forged token (bad signature), e.g. under attack.
func BenchmarkPrivateRejected(b *testing.B) {
	f := benchRouter(b, auth.DefaultCacheSize)
	tok := f.iss.Token(b, nil)
	forged := tok[:len(tok)-4] + "AAAA"
	b.ReportAllocs()
	for b.Loop() {
		serve(b, f, "/api/private", forged, http.StatusUnauthorized)
	}
}

func BenchmarkPublicParallel(b *testing.B) {
	f := benchRouter(b, auth.DefaultCacheSize)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, f, "/api/public", "", http.StatusOK)
		}
	})
}

func BenchmarkPrivateReusedTokenParallel(b *testing.B) {
	f := benchRouter(b, auth.DefaultCacheSize)
	tok := f.iss.Token(b, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, f, "/api/private-scoped", tok, http.StatusOK)
		}
	})
}
