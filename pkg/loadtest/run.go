// Package loadtest drives HTTP load at one endpoint with vegeta as a library and summarises it: throughput of
// successful requests, latency percentiles, a status-code histogram and the most frequent transport errors.
// It exists to show what token validation costs an API: the same route with no token, a reused token (served from
// a verified-token cache) and many distinct tokens (a signature check each).
package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxDistinctErrors bounds the error tally, so a run full of unique error texts cannot grow memory without end.
const maxDistinctErrors = 100

// Run loads target (an absolute http or https URL) as the options say, and reports what it measured. It returns
// once the duration has elapsed and every in-flight request has finished or timed out. Cancelling ctx stops it
// early: requests still in flight are abandoned and the report, marked Interrupted, covers what was answered.
func Run(ctx context.Context, target string, opts ...Option) (*Report, error) {
	s := defaults()
	for _, o := range opts {
		o(&s)
	}
	if err := s.validate(target); err != nil {
		return nil, err
	}

	conns := &connTracker{}
	client := s.httpClient(conns)
	defer client.CloseIdleConnections()

	workers := uint64(s.workers) //nolint:gosec // validated positive
	maxWorkers := workers
	if s.rate > 0 && s.maxWorkers > s.workers {
		maxWorkers = uint64(s.maxWorkers) //nolint:gosec // validated positive
	}
	attacker := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(workers),
		vegeta.MaxWorkers(maxWorkers),
		vegeta.MaxBody(s.maxBody),
	)
	var pacer vegeta.Pacer = vegeta.ConstantPacer{Freq: s.rate, Per: time.Second} // Freq 0 is vegeta's "no pacing"
	if s.maxRequests > 0 {
		pacer = countedPacer{Pacer: pacer, limit: s.maxRequests}
	}

	var interrupted, gaveUp atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			interrupted.Store(true)
			attacker.Stop()
			conns.closeAll() // fail in-flight requests now rather than after their timeout
		case <-done:
		}
	}()

	start := time.Now()
	results := attacker.Attack(newTargeter(s.method, target, s.header, s.tokens), pacer, s.duration, "tokencheck")
	tally := newTally()
	prog := newProgress(s.progress, s.progressTTY)

	var tick <-chan time.Time
	if s.progress != nil {
		t := time.NewTicker(s.progressInterval)
		defer t.Stop()
		tick = t.C
	}
	var deadline <-chan time.Time
	if s.giveUpAfter > 0 {
		t := time.NewTimer(s.giveUpAfter)
		defer t.Stop()
		deadline = t.C
	}
	giveUp := func() {
		if gaveUp.CompareAndSwap(false, true) {
			attacker.Stop()
			conns.closeAll()
		}
	}
	timeUp := false
	for results != nil {
		select {
		case res, ok := <-results:
			if !ok {
				results = nil
				continue
			}
			if res.Code == 0 && (interrupted.Load() || gaveUp.Load()) {
				continue // aborted by our own cancellation, not the target's doing
			}
			tally.add(res)
			if tally.answered == 0 && tally.failed > 0 &&
				((s.giveUpRequests > 0 && tally.failed >= uint64(s.giveUpRequests)) || timeUp) { //nolint:gosec // validated non-negative
				giveUp()
			}
		case <-deadline:
			timeUp = true
			if tally.answered == 0 && tally.failed > 0 {
				giveUp()
			}
		case now := <-tick:
			prog.update(now.Sub(start), tally.metrics.Requests, tally.codes)
		}
	}
	prog.finish(time.Since(start), tally.metrics.Requests, tally.codes)

	r := tally.report()
	r.Method, r.URL, r.Rate, r.Workers, r.Tokens = s.method, target, s.rate, s.workers, len(s.tokens)
	r.Interrupted = interrupted.Load()
	r.Unreachable = tally.answered == 0 && tally.failed > 0
	r.GaveUp = gaveUp.Load()
	return r, nil
}

// countedPacer stops an attack after limit hits.
type countedPacer struct {
	vegeta.Pacer
	limit uint64
}

func (p countedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.limit {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}

// Setting names a Run option in a Problem, so a CLI can name its own flag for it.
type Setting string

// The settings Check validates.
const (
	SettingTarget           Setting = "target"
	SettingMethod           Setting = "method"
	SettingRate             Setting = "rate"
	SettingDuration         Setting = "duration"
	SettingWorkers          Setting = "workers"
	SettingMaxWorkers       Setting = "max workers"
	SettingTimeout          Setting = "timeout"
	SettingGiveUp           Setting = "give-up bounds"
	SettingProgressInterval Setting = "progress interval"
	SettingTokens           Setting = "token"
)

// Problem is one invalid setting: its value as given (never a token) and what it must be instead.
type Problem struct {
	Setting Setting
	Value   string
	Want    string
}

// OptionsError lists every invalid setting of a Run at once, so a user fixes them in one go.
type OptionsError struct {
	Problems []Problem
}

// Error lists the problems in the package's own terms; a CLI rewords them with its flag names.
func (e *OptionsError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, fmt.Sprintf("%s %s %s", p.Setting, p.Value, p.Want))
	}
	return "loadtest: " + strings.Join(parts, "; ")
}

// Check validates target and opts as Run would, without sending anything: a caller can check its input before
// costly preparation (minting tokens). It returns nil or an *OptionsError.
func Check(target string, opts ...Option) error {
	s := defaults()
	for _, opt := range opts {
		opt(&s)
	}
	return s.validate(target)
}

func (s *settings) validate(target string) error {
	var problems []Problem
	add := func(setting Setting, value any, want string) {
		problems = append(problems, Problem{Setting: setting, Value: fmt.Sprint(value), Want: want})
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(SettingTarget, strconv.Quote(target), "must be an absolute http:// or https:// URL")
	}
	if s.method == "" || strings.ContainsAny(s.method, " \t\r\n") {
		add(SettingMethod, strconv.Quote(s.method), "is not an HTTP method")
	}
	if s.rate < 0 {
		add(SettingRate, s.rate, "must be 0 (as fast as possible) or more")
	}
	if s.duration <= 0 {
		add(SettingDuration, s.duration, "must be positive (e.g. 10s)")
	}
	if s.workers < 1 {
		add(SettingWorkers, s.workers, "must be at least 1")
	}
	if s.maxWorkers < 1 {
		add(SettingMaxWorkers, s.maxWorkers, "must be at least 1")
	}
	if s.timeout <= 0 {
		add(SettingTimeout, s.timeout, "must be positive (e.g. 5s)")
	}
	if s.giveUpRequests < 0 || s.giveUpAfter < 0 {
		add(SettingGiveUp, fmt.Sprintf("%d requests, %s", s.giveUpRequests, s.giveUpAfter), "must not be negative")
	}
	if s.progress != nil && s.progressInterval <= 0 {
		add(SettingProgressInterval, s.progressInterval, "must be positive")
	}
	for i, tok := range s.tokens {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n\x00") {
			// Never echo the token itself: it is a credential.
			add(SettingTokens, fmt.Sprintf("#%d", i+1), "is empty or contains whitespace or control characters")
			break
		}
	}
	if len(problems) > 0 {
		return &OptionsError{Problems: problems}
	}
	return nil
}

// httpClient builds the load client: no proxy (the load is meant for the API, not a proxy in between), redirects
// not followed, every phase bounded by the timeout, and enough idle connections to keep each worker's one alive.
func (s *settings) httpClient(conns *connTracker) *http.Client {
	rt := s.transport
	if rt == nil {
		idle := max(s.workers, s.maxWorkers)
		dialer := &net.Dialer{Timeout: s.timeout, KeepAlive: 30 * time.Second}
		rt = &http.Transport{
			DialContext:           conns.wrap(dialer.DialContext),
			MaxIdleConns:          idle,
			MaxIdleConnsPerHost:   idle,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   s.timeout,
			ResponseHeaderTimeout: s.timeout,
			ForceAttemptHTTP2:     true,
		}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       s.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// tally accumulates results: vegeta's Metrics for latencies and timing, plus status codes and transport errors.
type tally struct {
	metrics   vegeta.Metrics
	codes     map[int]uint64
	errs      map[string]uint64
	successes uint64
	answered  uint64 // results with a status code
	failed    uint64 // results without one (transport errors)
}

func newTally() *tally { return &tally{codes: map[int]uint64{}, errs: map[string]uint64{}} }

// localAddr matches the "127.0.0.1:54321->" part of socket errors, which would make every error text unique.
var localAddr = regexp.MustCompile(`\S+->`)

func (t *tally) add(res *vegeta.Result) {
	t.codes[int(res.Code)]++
	if res.Code == 0 {
		t.failed++
	} else {
		t.answered++
	}
	if res.Code >= 200 && res.Code < 300 {
		t.successes++
	}
	if res.Code == 0 && res.Error != "" {
		msg := localAddr.ReplaceAllString(res.Error, "")
		if _, seen := t.errs[msg]; seen || len(t.errs) < maxDistinctErrors {
			t.errs[msg]++
		} else {
			t.errs["(other errors)"]++
		}
	}
	// Status-text "errors" (e.g. "401 Unauthorized") are in the histogram already; keep vegeta's list empty.
	res.Error = ""
	res.Body = nil
	t.metrics.Add(res)
}

func (t *tally) report() *Report {
	t.metrics.Close()
	m := &t.metrics
	r := &Report{
		Duration:    m.Duration + m.Wait,
		Requests:    m.Requests,
		Successes:   t.successes,
		SentRate:    m.Rate,
		StatusCodes: t.codes,
		Errors:      topErrors(t.errs),
	}
	if r.Requests > 0 {
		r.Latency = Latency{Mean: m.Latencies.Mean, P50: m.Latencies.P50, P90: m.Latencies.P90,
			P99: m.Latencies.P99, Max: m.Latencies.Max}
	}
	if secs := r.Duration.Seconds(); secs > 0 {
		r.Throughput = float64(r.Successes) / secs
	}
	return r
}
