package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// cpuTime is the process's user+system CPU so far: what a request costs the server, all goroutines and GC included.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuthScheme compares a Bearer request with a DPoP request through the whole router, both with the
// token's validation cached (the common case: one client, one token): the difference is the proof's cost (ES256
// verification, jwk parsing, replay cache). Proofs are signed before the timer starts, one per request.
func BenchmarkAuthScheme(b *testing.B) {
	f := benchRouter(b, auth.DefaultCacheSize)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s, err := dpop.NewSigner(key)
	if err != nil {
		b.Fatal(err)
	}
	plain := f.iss.Token(b, nil)
	bound := f.iss.Token(b, func(c map[string]any) { c["cnf"] = map[string]any{"jkt": s.Thumbprint()} })
	const htu = "http://example.com/api/private-scoped" // httptest.NewRequest's host
	run := func(b *testing.B, header func(i int) http.Header) {
		b.ReportAllocs()
		start := cpuTime(b)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodGet, "/api/private-scoped", nil)
			req.Header = header(i)
			rec := httptest.NewRecorder()
			f.router.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d: %s", rec.Code, rec.Body)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
	}
	b.Run("bearer", func(b *testing.B) {
		h := http.Header{"Authorization": {"Bearer " + plain}}
		run(b, func(int) http.Header { return h })
	})
	b.Run("dpop", func(b *testing.B) {
		proofs := make([]string, b.N)
		for i := range proofs {
			if proofs[i], err = s.Proof(http.MethodGet, htu, bound); err != nil {
				b.Fatal(err)
			}
		}
		run(b, func(i int) http.Header {
			h := http.Header{"Authorization": {"DPoP " + bound}}
			h.Set("DPoP", proofs[i]) // canonical key, as net/http gives a handler
			return h
		})
	})
}
