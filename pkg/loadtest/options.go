package loadtest

import (
	"io"
	"net/http"
	"time"
)

// Defaults used when an option is not given; they keep an unattended run bounded and gentle.
const (
	DefaultRate             = 100
	DefaultDuration         = 10 * time.Second
	DefaultWorkers          = 8
	DefaultMaxWorkers       = 1024
	DefaultTimeout          = 5 * time.Second
	DefaultMaxBody          = 64 << 10
	DefaultProgressInterval = time.Second
	// DefaultGiveUpRequests: a run stops when its first 20 requests all failed without an answer (a dead API).
	DefaultGiveUpRequests = 20
	// DefaultGiveUpAfter: a run stops when nothing has answered in its first 5 seconds and something failed.
	DefaultGiveUpAfter = 5 * time.Second
)

// Option tunes a Run; options are applied in order, so a later one wins.
type Option func(*settings)

type settings struct {
	method           string
	rate             int
	duration         time.Duration
	maxRequests      uint64
	workers          int
	maxWorkers       int
	timeout          time.Duration
	maxBody          int64
	tokens           []string
	header           http.Header
	transport        http.RoundTripper
	progress         io.Writer
	progressTTY      bool
	progressInterval time.Duration
	giveUpRequests   int
	giveUpAfter      time.Duration
}

func defaults() settings {
	return settings{
		method:           http.MethodGet,
		rate:             DefaultRate,
		duration:         DefaultDuration,
		workers:          DefaultWorkers,
		maxWorkers:       DefaultMaxWorkers,
		timeout:          DefaultTimeout,
		maxBody:          DefaultMaxBody,
		progressInterval: DefaultProgressInterval,
		giveUpRequests:   DefaultGiveUpRequests,
		giveUpAfter:      DefaultGiveUpAfter,
	}
}

// WithMethod sets the HTTP method, so write endpoints can be loaded too (default GET).
func WithMethod(method string) Option { return func(s *settings) { s.method = method } }

// WithRate sets requests per second; 0 sends as fast as WithWorkers concurrent workers can (default 100).
func WithRate(perSecond int) Option { return func(s *settings) { s.rate = perSecond } }

// WithDuration bounds how long requests are sent (default 10s); in-flight requests then finish or time out.
func WithDuration(d time.Duration) Option { return func(s *settings) { s.duration = d } }

// WithMaxRequests stops sending after n requests even if the duration has not elapsed (0, the default, means no
// limit), for a fixed amount of work such as a benchmark's b.N.
func WithMaxRequests(n uint64) Option { return func(s *settings) { s.maxRequests = n } }

// WithWorkers sets the number of concurrent workers: the exact concurrency at rate 0, the starting pool otherwise.
func WithWorkers(n int) Option { return func(s *settings) { s.workers = n } }

// WithMaxWorkers caps the pool a fixed rate may grow to when responses are slow (default 1024).
func WithMaxWorkers(n int) Option { return func(s *settings) { s.maxWorkers = n } }

// WithTimeout bounds each request, connection and body included (default 5s).
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithMaxBody bounds how much of each response body is read (default 64 KiB); the rest is discarded.
func WithMaxBody(n int64) Option { return func(s *settings) { s.maxBody = n } }

// WithTokens sends "Authorization: Bearer <token>" on every request, cycling through tokens in order; one token
// measures the reused-token path, many distinct ones defeat a verified-token cache.
func WithTokens(tokens ...string) Option {
	return func(s *settings) { s.tokens = append([]string(nil), tokens...) }
}

// WithHeader adds fixed headers to every request (copied, so the caller may reuse h).
func WithHeader(h http.Header) Option { return func(s *settings) { s.header = h.Clone() } }

// WithTransport replaces the HTTP transport, for tests or special dialing; timeouts still apply.
func WithTransport(rt http.RoundTripper) Option { return func(s *settings) { s.transport = rt } }

// WithProgress writes a progress line to w about every second; tty rewrites one line with \r instead of
// printing a line each time, which keeps logs readable when w is not a terminal.
func WithProgress(w io.Writer, tty bool) Option {
	return func(s *settings) { s.progress, s.progressTTY = w, tty }
}

// WithProgressInterval changes how often the progress line is written (default 1s).
func WithProgressInterval(d time.Duration) Option {
	return func(s *settings) { s.progressInterval = d }
}

// WithGiveUp stops the run early, marking the report Unreachable and GaveUp, when no request has been answered yet
// and either the first requests (that many) all failed at the transport level or after has passed with at least
// one such failure: a dead target is then not hammered for the whole duration. requests 0 disables the rule on the
// count, after 0 the one on time (defaults DefaultGiveUpRequests, DefaultGiveUpAfter).
func WithGiveUp(requests int, after time.Duration) Option {
	return func(s *settings) { s.giveUpRequests, s.giveUpAfter = requests, after }
}
