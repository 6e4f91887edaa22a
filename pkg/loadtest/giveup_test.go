package loadtest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRunGivesUpOnUnreachable loads dead, hanging and live targets over real HTTP: a run stops early only when
// nothing has answered and the first requests, or the first seconds, brought transport failures alone.
func TestRunGivesUpOnUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hanging.Close() })
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(live.Close)

	tests := []struct {
		name            string
		url             string
		opts            []Option
		gaveUp, unreach bool
		maxElapsed      time.Duration
		maxRequests     uint64
	}{
		{"dead: first 20 requests", deadURL, []Option{WithRate(100), WithDuration(30 * time.Second)}, true, true, 5 * time.Second, 40},
		{"dead: first 300ms", deadURL, []Option{WithRate(10), WithDuration(30 * time.Second), WithGiveUp(0, 300*time.Millisecond)}, true, true, 3 * time.Second, 20},
		{"dead: give-up off", deadURL, []Option{WithRate(50), WithDuration(300 * time.Millisecond), WithGiveUp(0, 0)}, false, true, 5 * time.Second, 100},
		{"hanging: timeouts are failures", hanging.URL, []Option{WithRate(20), WithDuration(30 * time.Second), WithTimeout(100 * time.Millisecond), WithGiveUp(3, 0)}, true, true, 5 * time.Second, 40},
		{"live: never", live.URL, []Option{WithRate(100), WithDuration(300 * time.Millisecond), WithGiveUp(1, time.Millisecond)}, false, false, 5 * time.Second, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r, err := Run(t.Context(), tc.url, tc.opts...)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if elapsed := time.Since(start); elapsed > tc.maxElapsed {
				t.Errorf("took %s, want under %s", elapsed, tc.maxElapsed)
			}
			if r.GaveUp != tc.gaveUp || r.Unreachable != tc.unreach {
				t.Fatalf("gave up %v, unreachable %v; want %v, %v (%d requests, codes %v)", r.GaveUp, r.Unreachable, tc.gaveUp, tc.unreach, r.Requests, r.StatusCodes)
			}
			if r.Requests == 0 || r.Requests > tc.maxRequests {
				t.Errorf("%d requests, want 1..%d", r.Requests, tc.maxRequests)
			}
			var buf bytes.Buffer
			if err := r.WriteTable(&buf); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "early: the first requests all failed"); got != tc.gaveUp {
				t.Errorf("table says stopped early %v, want %v:\n%s", got, tc.gaveUp, buf.String())
			}
		})
	}
	if _, err := Run(t.Context(), live.URL, WithGiveUp(-1, 0)); err == nil {
		t.Fatal("a negative give-up bound was accepted")
	}
}

func TestReportTableNoAnswer(t *testing.T) {
	tests := []struct {
		name      string
		codes     map[int]uint64
		want, not []string
	}{
		{"some unanswered", map[int]uint64{0: 3, 200: 5}, []string{"failed      no answer: 3 requests", "status      200: 5"}, []string{"status      no answer", "0: 3"}},
		{"one unanswered", map[int]uint64{0: 1}, []string{"no answer: 1 request\n", "status      (none)"}, []string{"status      no answer"}},
		{"all answered", map[int]uint64{401: 2}, []string{"status      401: 2"}, []string{"no answer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := &Report{Method: "GET", URL: "http://h/p?access_token=secret-x", StatusCodes: tc.codes,
				Errors: []ErrorCount{{Error: `Get "http://h/p?access_token=secret-x": refused`, Count: 1}}}
			if err := r.WriteTable(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("table lacks %q:\n%s", w, out)
				}
			}
			for _, n := range append(tc.not, "secret-x") {
				if strings.Contains(out, n) {
					t.Errorf("table holds %q:\n%s", n, out)
				}
			}
			raw, err := r.MarshalJSON()
			if err != nil || strings.Contains(string(raw), "secret-x") {
				t.Errorf("JSON %s, %v", raw, err)
			}
		})
	}
}
