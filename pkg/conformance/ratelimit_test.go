package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

func TestRetryWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		try  int
		want time.Duration
		ok   bool
	}{
		{"", 1, time.Second, true},
		{"", 3, 4 * time.Second, true},
		{"0", 1, 0, true},
		{" 7 ", 1, 7 * time.Second, true},
		{"10", 1, 10 * time.Second, true},
		{"11", 1, 0, false},
		{"99999999999999999999999", 1, 0, false},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 1, 5 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 1, 0, true},
		{now.Add(time.Hour).Format(http.TimeFormat), 1, 0, false},
		{"soon", 2, 2 * time.Second, true},
	}
	for _, tc := range tests {
		got, ok := retryWait(tc.v, tc.try, now)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("retryWait(%q, %d) = %s, %v; want %s, %v", tc.v, tc.try, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRateLimitedCases sends cases to a server that answers 429 as a gateway would: a case it lets through after a
// few tries is judged on the answer it then gives, one it never lets through (or asks to wait too long for) is
// skipped, and a case's request is built afresh for each try.
func TestRateLimitedCases(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		sends = map[string]int{}
		built = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sends[r.URL.Path]++
		n := sends[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/relents" && n <= 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case r.URL.Path == "/never":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case r.URL.Path == "/later":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	env := &Env{API: srv.URL, HTTP: httpcall.NewClient(5 * time.Second)}
	at := func(path string) Case {
		return Case{Name: strings.TrimPrefix(path, "/"), Category: Quickstart, Severity: High, Why: "w",
			Expect: Expect{Status: http.StatusUnauthorized},
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				mu.Lock()
				built[path]++
				mu.Unlock()
				return request(env, path, nil), nil
			}}
	}
	results := NewRunner(WithCases([]Case{at("/relents"), at("/never"), at("/later")})).Run(t.Context(), env)
	want := map[string]struct {
		verdict     Verdict
		sends, dets int
	}{
		"quickstart/relents": {Pass, 3, 3},
		"quickstart/never":   {Skip, rateLimitTries, rateLimitTries},
		"quickstart/later":   {Skip, 1, 1},
	}
	for _, r := range results {
		w := want[r.Case.ID()]
		path := "/" + r.Case.Name
		if r.Verdict != w.verdict {
			t.Errorf("%s: %s (%s), want %s", r.Case.ID(), r.Verdict, r.Detail, w.verdict)
		}
		if w.verdict == Skip && (r.Got != http.StatusTooManyRequests || !strings.Contains(r.Detail, "rate limited")) {
			t.Errorf("%s: got %d %q, want a 429 skipped as rate limited", r.Case.ID(), r.Got, r.Detail)
		}
		if sends[path] != w.sends || built[path] != w.dets {
			t.Errorf("%s: sent %d and built %d times, want %d and %d", r.Case.ID(), sends[path], built[path], w.sends, w.dets)
		}
	}
}

// FuzzRetryWait: whatever Retry-After a server sends, the wait is never negative and never beyond the cap.
func FuzzRetryWait(f *testing.F) {
	f.Add("", 1)
	f.Add("120", 2)
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", 1)
	f.Add("-3", 4)
	f.Fuzz(func(t *testing.T, v string, try int) {
		if try < 1 || try > rateLimitTries {
			t.Skip()
		}
		wait, ok := retryWait(v, try, time.Now())
		if ok && (wait < 0 || wait > maxRateLimitWait) {
			t.Fatalf("retryWait(%q, %d) = %s, ok", v, try, wait)
		}
	})
}

// FuzzMasked: masking is stable (masking twice changes nothing) and never panics on any body.
func FuzzMasked(f *testing.F) {
	f.Add([]byte(`{"message":"private","at":1733000000,"id":"5f0c9a7e-1b2d-4c3e-9f00-aa11bb22cc33"}`))
	f.Add([]byte("<!doctype html>\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		once := masked(body)
		if twice := masked([]byte(once)); twice != once {
			t.Fatalf("masked is not stable: %q then %q", once, twice)
		}
	})
}
