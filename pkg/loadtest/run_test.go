package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a loopback API that counts requests and the bearer tokens it sees, and answers 401 to every
// fourth request so the histogram has something to count.
type recorder struct {
	srv    *httptest.Server
	n      atomic.Int64
	mu     sync.Mutex
	tokens map[string]int
	noAuth int
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{tokens: map[string]int{}}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := rec.n.Add(1)
		rec.mu.Lock()
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			rec.tokens[tok]++
		} else {
			rec.noAuth++
		}
		rec.mu.Unlock()
		if n%4 == 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"message":"ok"}`))
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func TestRunCountsEveryRequestInTheHistogram(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{"paced", []Option{WithRate(200), WithDuration(300 * time.Millisecond)}},
		{"as fast as possible", []Option{WithRate(0), WithWorkers(2), WithDuration(200 * time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			r, err := Run(t.Context(), rec.srv.URL+"/api/private", tt.opts...)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			served := uint64(rec.n.Load()) //nolint:gosec // a count
			if r.Requests == 0 || r.Requests != served {
				t.Fatalf("report counts %d requests, server served %d", r.Requests, served)
			}
			want401 := served / 4
			if r.StatusCodes[401] != want401 || r.StatusCodes[200] != served-want401 || len(r.StatusCodes) != 2 {
				t.Errorf("status codes %v, want 200:%d 401:%d", r.StatusCodes, served-want401, want401)
			}
			if r.Successes != r.StatusCodes[200] {
				t.Errorf("successes %d, want the 200s %d", r.Successes, r.StatusCodes[200])
			}
			if got, want := r.SuccessRatio(), float64(served-want401)/float64(served); got != want {
				t.Errorf("success ratio %v, want %v", got, want)
			}
			if r.Throughput <= 0 || r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 || r.Latency.Max < r.Latency.P99 {
				t.Errorf("throughput %v, latencies %+v: want positive and ordered", r.Throughput, r.Latency)
			}
			if len(r.Errors) != 0 || r.Interrupted {
				t.Errorf("errors %v, interrupted %v: want none", r.Errors, r.Interrupted)
			}
			if rec.noAuth != int(served) {
				t.Errorf("%d of %d requests had no Authorization header, want all", rec.noAuth, served)
			}
		})
	}
}

func TestRunPacedNeverExceedsTheRate(t *testing.T) {
	rec := newRecorder(t)
	const rate, du = 100, 300 * time.Millisecond
	r, err := Run(t.Context(), rec.srv.URL, WithRate(rate), WithDuration(du))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The pacer schedules hit k at k/rate seconds, so at most rate×duration+1 hits start in the window.
	if limit := uint64(rate*du/time.Second) + 1; r.Requests > limit {
		t.Errorf("%d requests in %s at %d/s, want at most %d", r.Requests, du, rate, limit)
	}
}

func TestRunCyclesEveryToken(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
	}{
		{"one reused", []string{"reused-token"}},
		{"fifty unique", func() []string {
			out := make([]string, 50)
			for i := range out {
				out[i] = "tok-" + strings.Repeat("x", i)
			}
			return out
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			r, err := Run(t.Context(), rec.srv.URL, WithRate(0), WithWorkers(4),
				WithDuration(time.Minute), WithMaxRequests(200), WithTokens(tt.tokens...))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if r.Requests != 200 {
				t.Fatalf("%d requests, want the 200 asked for", r.Requests)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if rec.noAuth != 0 {
				t.Errorf("%d requests without a token", rec.noAuth)
			}
			if len(rec.tokens) != len(tt.tokens) {
				t.Errorf("server saw %d distinct tokens, want %d", len(rec.tokens), len(tt.tokens))
			}
			for _, tok := range tt.tokens {
				if rec.tokens[tok] == 0 {
					t.Errorf("token %q never sent", tok)
				}
			}
			if r.Tokens != len(tt.tokens) {
				t.Errorf("report says %d tokens, want %d", r.Tokens, len(tt.tokens))
			}
		})
	}
}

func TestRunReportsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more: every request is refused
	r, err := Run(t.Context(), url, WithRate(50), WithDuration(100*time.Millisecond))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.Requests == 0 || r.StatusCodes[0] != r.Requests || r.Successes != 0 || r.Throughput != 0 {
		t.Fatalf("requests %d, codes %v, successes %d, throughput %v: want all unanswered",
			r.Requests, r.StatusCodes, r.Successes, r.Throughput)
	}
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Error, "refused") {
		t.Fatalf("errors %v, want connection refused", r.Errors)
	}
	var total uint64
	for _, e := range r.Errors {
		total += e.Count
	}
	if total != r.Requests {
		t.Errorf("errors count %d requests, want %d", total, r.Requests)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select { // hang like a stuck API
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	type out struct {
		r   *Report
		err error
	}
	got := make(chan out, 1)
	go func() {
		r, err := Run(ctx, srv.URL, WithRate(0), WithWorkers(2), WithDuration(time.Minute), WithTimeout(time.Minute))
		got <- out{r, err}
	}()
	select {
	case o := <-got:
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		if !o.r.Interrupted || o.r.Requests != 0 {
			t.Errorf("interrupted %v with %d requests (%v), want interrupted with none counted",
				o.r.Interrupted, o.r.Requests, o.r.StatusCodes)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still running 20s after its context was cancelled")
	}
}

func TestRunProgress(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
	}{
		{"terminal", true},
		{"log", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			var buf bytes.Buffer
			_, err := Run(t.Context(), rec.srv.URL, WithRate(100), WithDuration(250*time.Millisecond),
				WithProgress(&buf, tt.tty), WithProgressInterval(50*time.Millisecond))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			out := buf.String()
			if !strings.Contains(out, "requests ") || !strings.Contains(out, "/s") || !strings.Contains(out, "200:") {
				t.Fatalf("progress %q lacks requests, rate or status counts", out)
			}
			if got := strings.Contains(out, "\r"); got != tt.tty {
				t.Errorf("carriage returns present = %v, want %v: %q", got, tt.tty, out)
			}
			if !strings.HasSuffix(out, "\n") {
				t.Errorf("progress %q does not end its line", out)
			}
		})
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	const secret = "secret-token-value"
	tests := []struct {
		name, target string
		opts         []Option
		want         string
	}{
		{"relative URL", "/api/private", nil, "absolute"},
		{"other scheme", "ftp://127.0.0.1/", nil, "absolute"},
		{"negative rate", "http://127.0.0.1/", []Option{WithRate(-1)}, "rate"},
		{"zero duration", "http://127.0.0.1/", []Option{WithDuration(0)}, "duration"},
		{"no workers", "http://127.0.0.1/", []Option{WithWorkers(0)}, "workers"},
		{"no timeout", "http://127.0.0.1/", []Option{WithTimeout(0)}, "timeout"},
		{"bad method", "http://127.0.0.1/", []Option{WithMethod("GE T")}, "method"},
		{"token with newline", "http://127.0.0.1/", []Option{WithTokens("ok", secret+"\r\nX: y")}, "token #2"},
		{"empty token", "http://127.0.0.1/", []Option{WithTokens("")}, "token #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(t.Context(), tt.target, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q reveals the token", err)
			}
		})
	}
}

func TestRunStopsAfterMaxRequests(t *testing.T) {
	rec := newRecorder(t)
	r, err := Run(t.Context(), rec.srv.URL, WithRate(0), WithWorkers(3), WithDuration(time.Minute), WithMaxRequests(37))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.Requests != 37 || rec.n.Load() != 37 {
		t.Errorf("report %d, server %d requests; want 37", r.Requests, rec.n.Load())
	}
}
