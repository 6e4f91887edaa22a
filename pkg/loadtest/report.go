package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// maxErrors is how many distinct transport errors a Report keeps: enough to diagnose, short enough to read.
const maxErrors = 5

// Report is what a Run measured. Success means a 2xx answer: redirects are not followed and a 3xx is not what a
// protected API should answer, so it counts against the ratio.
type Report struct {
	Method      string
	URL         string
	Rate        int           // requested requests per second; 0 means as fast as the workers could
	Workers     int           // workers at the start (the exact concurrency at rate 0)
	Tokens      int           // distinct tokens cycled; 0 when requests carried no Authorization header
	Duration    time.Duration // from the first request sent to the last answer received
	Requests    uint64        // answers and transport errors counted
	Successes   uint64        // 2xx answers
	Throughput  float64       // successful requests per second over Duration
	SentRate    float64       // requests sent per second while sending
	Latency     Latency
	StatusCodes map[int]uint64 // status code → count; 0 counts requests that got no answer (see Errors)
	Errors      []ErrorCount   // the most frequent transport errors, most frequent first
	Interrupted bool           // the context was cancelled before the duration elapsed
	// Unreachable: no request got an answer and at least one failed at the transport level. Run stops early when
	// that holds for the first requests (see WithGiveUp), so a dead target is not hammered for the whole duration.
	Unreachable bool
	// GaveUp: Run stopped before the duration because the target was Unreachable.
	GaveUp bool
}

// Latency holds the response-time percentiles a capacity decision needs.
type Latency struct {
	Mean, P50, P90, P99, Max time.Duration
}

// ErrorCount is one distinct transport error and how often it happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count uint64 `json:"count"`
}

// SuccessRatio is the share of requests answered 2xx, between 0 and 1 (0 when nothing was sent).
func (r *Report) SuccessRatio() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Successes) / float64(r.Requests)
}

type jsonLatency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

type jsonReport struct {
	Method            string            `json:"method"`
	URL               string            `json:"url"`
	Rate              int               `json:"rate"`
	Workers           int               `json:"workers"`
	Tokens            int               `json:"tokens"`
	DurationSeconds   float64           `json:"duration_seconds"`
	Requests          uint64            `json:"requests"`
	Successes         uint64            `json:"successes"`
	RequestsPerSecond float64           `json:"requests_per_second"`
	SentPerSecond     float64           `json:"sent_per_second"`
	SuccessRatio      float64           `json:"success_ratio"`
	LatencyMS         jsonLatency       `json:"latency_ms"`
	StatusCodes       map[string]uint64 `json:"status_codes"`
	Errors            []ErrorCount      `json:"errors"`
	Interrupted       bool              `json:"interrupted"`
	Unreachable       bool              `json:"unreachable"`
	GaveUp            bool              `json:"gave_up"`
}

// MarshalJSON gives scripts stable, unit-bearing names: seconds, milliseconds and requests_per_second (successful).
func (r *Report) MarshalJSON() ([]byte, error) {
	codes := make(map[string]uint64, len(r.StatusCodes))
	for c, n := range r.StatusCodes {
		codes[strconv.Itoa(c)] = n
	}
	errs := make([]ErrorCount, 0, len(r.Errors))
	for _, e := range r.Errors {
		errs = append(errs, ErrorCount{Error: httpcall.RedactText(e.Error), Count: e.Count})
	}
	return json.Marshal(jsonReport{
		Method: r.Method, URL: httpcall.RedactURL(r.URL), Rate: r.Rate, Workers: r.Workers, Tokens: r.Tokens,
		DurationSeconds: r.Duration.Seconds(), Requests: r.Requests, Successes: r.Successes,
		RequestsPerSecond: r.Throughput, SentPerSecond: r.SentRate, SuccessRatio: r.SuccessRatio(),
		LatencyMS: jsonLatency{
			Mean: ms(r.Latency.Mean), P50: ms(r.Latency.P50), P90: ms(r.Latency.P90),
			P99: ms(r.Latency.P99), Max: ms(r.Latency.Max),
		},
		StatusCodes: codes, Errors: errs, Interrupted: r.Interrupted, Unreachable: r.Unreachable, GaveUp: r.GaveUp,
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteTable prints the report for a person: one labelled line per figure, status codes in numeric order.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rate := "as fast as possible"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%d/s", r.Rate)
	}
	auth := "no token"
	switch {
	case r.Tokens == 1:
		auth = "1 token, reused"
	case r.Tokens > 1:
		auth = fmt.Sprintf("%d distinct tokens", r.Tokens)
	}
	fmt.Fprintf(tw, "target\t%s %s\n", r.Method, httpcall.RedactURL(r.URL))
	fmt.Fprintf(tw, "load\trate %s, %d workers, %s\n", rate, r.Workers, auth)
	fmt.Fprintf(tw, "requests\t%d in %s%s\n", r.Requests, r.Duration.Round(time.Millisecond), interrupted(r.Interrupted))
	fmt.Fprintf(tw, "requests/s\t%.1f successful (%.1f sent)\n", r.Throughput, r.SentRate)
	fmt.Fprintf(tw, "success\t%.2f%%\n", 100*r.SuccessRatio())
	fmt.Fprintf(tw, "latency\tp50 %s  p90 %s  p99 %s  max %s\n",
		fmtDur(r.Latency.P50), fmtDur(r.Latency.P90), fmtDur(r.Latency.P99), fmtDur(r.Latency.Max))
	// Requests without an answer are not a status: their own line, so "0" or a count never reads as a code.
	if n := r.StatusCodes[0]; n > 0 {
		fmt.Fprintf(tw, "failed\tno answer: %d %s\n", n, plural(n, "request", "requests"))
	}
	codes := make([]int, 0, len(r.StatusCodes))
	for c := range r.StatusCodes {
		if c != 0 {
			codes = append(codes, c)
		}
	}
	sort.Ints(codes)
	label := "status"
	for _, c := range codes {
		fmt.Fprintf(tw, "%s\t%d: %d\n", label, c, r.StatusCodes[c])
		label = ""
	}
	if len(codes) == 0 {
		fmt.Fprintf(tw, "status\t(none)\n")
	}
	if r.GaveUp {
		fmt.Fprintf(tw, "stopped\tearly: the first requests all failed without an answer\n")
	}
	label = "errors"
	for _, e := range r.Errors {
		fmt.Fprintf(tw, "%s\t%d× %s\n", label, e.Count, httpcall.RedactText(e.Error))
		label = ""
	}
	return tw.Flush()
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func interrupted(b bool) string {
	if b {
		return " (interrupted)"
	}
	return ""
}

// fmtDur rounds a latency to three significant figures, so 1.234567ms reads 1.23ms.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// topErrors orders errors by count, most frequent first (ties by text), and keeps maxErrors of them.
func topErrors(counts map[string]uint64) []ErrorCount {
	out := make([]ErrorCount, 0, len(counts))
	for e, n := range counts {
		out = append(out, ErrorCount{Error: e, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Error < out[j].Error
	})
	if len(out) > maxErrors {
		out = out[:maxErrors]
	}
	return out
}

// statusLine renders counts compactly, "200:1234 401:5", for the progress line.
func statusLine(counts map[int]uint64) string {
	codes := make([]int, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		name := strconv.Itoa(c)
		if c == 0 {
			name = "err"
		}
		parts = append(parts, fmt.Sprintf("%s:%d", name, counts[c]))
	}
	return strings.Join(parts, " ")
}
