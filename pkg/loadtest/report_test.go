package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	return &Report{
		Method: "GET", URL: "http://127.0.0.1:3010/api/private", Rate: 0, Workers: 8, Tokens: 10000,
		Duration: 2 * time.Second, Requests: 1000, Successes: 990, Throughput: 495, SentRate: 500,
		Latency:     Latency{Mean: 2 * time.Millisecond, P50: 1500 * time.Microsecond, P90: 3 * time.Millisecond, P99: 9 * time.Millisecond, Max: 20 * time.Millisecond},
		StatusCodes: map[int]uint64{200: 990, 401: 7, 0: 3},
		Errors:      []ErrorCount{{Error: "connection reset by peer", Count: 3}},
	}
}

func TestReportJSON(t *testing.T) {
	raw, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got struct {
		Requests          uint64             `json:"requests"`
		RequestsPerSecond float64            `json:"requests_per_second"`
		SuccessRatio      float64            `json:"success_ratio"`
		DurationSeconds   float64            `json:"duration_seconds"`
		Tokens            int                `json:"tokens"`
		LatencyMS         map[string]float64 `json:"latency_ms"`
		StatusCodes       map[string]uint64  `json:"status_codes"`
		Errors            []ErrorCount       `json:"errors"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	if got.Requests != 1000 || got.RequestsPerSecond != 495 || got.SuccessRatio != 0.99 || got.DurationSeconds != 2 || got.Tokens != 10000 {
		t.Errorf("figures %+v from %s", got, raw)
	}
	wantLat := map[string]float64{"mean": 2, "p50": 1.5, "p90": 3, "p99": 9, "max": 20}
	for k, v := range wantLat {
		if got.LatencyMS[k] != v {
			t.Errorf("latency_ms.%s = %v, want %v", k, got.LatencyMS[k], v)
		}
	}
	if got.StatusCodes["200"] != 990 || got.StatusCodes["401"] != 7 || got.StatusCodes["0"] != 3 {
		t.Errorf("status_codes %v", got.StatusCodes)
	}
	if len(got.Errors) != 1 || got.Errors[0].Count != 3 {
		t.Errorf("errors %v", got.Errors)
	}
}

func TestReportJSONEmptyRunHasEmptyLists(t *testing.T) {
	raw, err := json.Marshal(&Report{Method: "GET", URL: "http://x/", StatusCodes: map[int]uint64{}})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	for _, want := range []string{`"errors":[]`, `"status_codes":{}`, `"success_ratio":0`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("%s lacks %s", raw, want)
		}
	}
}

func TestReportTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatalf("WriteTable: %v", err)
	}
	out := buf.String()
	for _, want := range []string{
		"GET http://127.0.0.1:3010/api/private",
		"as fast as possible, 8 workers, 10000 distinct tokens",
		"1000 in 2s",
		"495.0 successful (500.0 sent)",
		"99.00%",
		"p50 1.5ms  p90 3ms  p99 9ms  max 20ms",
		"no answer: 3",
		"200: 990",
		"401: 7",
		"3× connection reset by peer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "no answer") > strings.Index(out, "200:") || strings.Index(out, "200:") > strings.Index(out, "401:") {
		t.Errorf("status codes not in numeric order:\n%s", out)
	}
}

func TestTopErrorsKeepsTheMostFrequent(t *testing.T) {
	counts := map[string]uint64{}
	for i := range 8 {
		counts[fmt.Sprintf("err-%d", i)] = uint64(i + 1) //nolint:gosec // small
	}
	got := topErrors(counts)
	if len(got) != maxErrors {
		t.Fatalf("%d errors kept, want %d", len(got), maxErrors)
	}
	for i, e := range got {
		if want := fmt.Sprintf("err-%d", 7-i); e.Error != want {
			t.Errorf("position %d is %q, want %q", i, e.Error, want)
		}
	}
}

func TestFmtDur(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{1234567 * time.Nanosecond, "1.23ms"},
		{12345678 * time.Nanosecond, "12.3ms"},
		{123456789 * time.Nanosecond, "123ms"},
		{1500 * time.Millisecond, "1.5s"},
		{123456 * time.Nanosecond, "123µs"},
	}
	for _, tt := range tests {
		if got := fmtDur(tt.in); got != tt.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
