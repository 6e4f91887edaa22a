package loadtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkRunLoopback measures the load generator's own cost per request against a trivial loopback handler:
// if this is not well above the API's throughput, the generator, not the API, is what a load run measures.
func BenchmarkRunLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"message":"ok"}`))
	}))
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	r, err := Run(b.Context(), srv.URL, WithRate(0), WithWorkers(8), WithDuration(time.Hour),
		WithMaxRequests(uint64(b.N)), WithTokens("a-reused-token")) //nolint:gosec // b.N is positive
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if r.Successes != uint64(b.N) { //nolint:gosec // b.N is positive
		b.Fatalf("%d of %d requests succeeded", r.Successes, b.N)
	}
	b.ReportMetric(r.Throughput, "req/s")
}

// BenchmarkTargeter is the per-request cost of picking the next token from a large pool.
func BenchmarkTargeter(b *testing.B) {
	toks := make([]string, 10000)
	for i := range toks {
		toks[i] = "token-" + time.Duration(i).String()
	}
	tr := newTargeter(http.MethodGet, "http://127.0.0.1/api/private", nil, toks)
	var t vegeta.Target
	b.ReportAllocs()
	for b.Loop() {
		if err := tr(&t); err != nil {
			b.Fatal(err)
		}
	}
}
