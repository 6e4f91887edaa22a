package conformance

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/internal/atomicfile"
)

// Report is one run of the suite, as the reporters print it.
type Report struct {
	API      string
	Issuer   string
	Audience string
	Profile  Profile
	// Leeway says what the suite knows of the API's clock leeway (given, measured, or why unknown).
	Leeway   string
	Results  []Result
	Duration time.Duration
}

// Summary counts verdicts, and failures by severity.
type Summary struct {
	Passed, Failed, Skipped int
	BySeverity              map[Severity]int
}

// String is the last line of the table format, fixed by the contract.
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

// SeverityLine counts failures by severity, most serious first: "failures: 0 critical, 1 high, 0 medium, 2 low".
func (s Summary) SeverityLine() string {
	parts := make([]string, 0, 4)
	for _, sev := range Severities() {
		parts = append(parts, fmt.Sprintf("%d %s", s.BySeverity[sev], sev))
	}
	return "failures: " + strings.Join(parts, ", ")
}

// AtLeast counts the failures of severity least or more serious, what --fail-on gates on.
func (s Summary) AtLeast(least Severity) int {
	n := 0
	for sev, c := range s.BySeverity {
		if sev >= least {
			n += c
		}
	}
	return n
}

// Summary counts the report's verdicts.
func (r *Report) Summary() Summary {
	s := Summary{BySeverity: map[Severity]int{}}
	for _, res := range r.Results {
		switch res.Verdict {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
			s.BySeverity[res.Severity]++
		case Skip:
			s.Skipped++
		}
	}
	return s
}

// Crashes are the IDs of the cases whose requests crashed the API (no answer or a 5xx, even sent alone).
func (r *Report) Crashes() []string {
	var out []string
	for _, res := range r.Results {
		if res.Verdict == Fail && res.Crashed {
			out = append(out, res.Case.ID())
		}
	}
	return out
}

// Format names a reporter.
type Format string

// The report formats --format accepts.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatJUnit Format = "junit"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatTable, FormatJSON, FormatJUnit:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use table, json or junit", s)
}

// Write prints the report in format f; color applies to the table only.
func (r *Report) Write(w io.Writer, f Format, color bool) error {
	switch f {
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatJUnit:
		return r.WriteJUnit(w)
	default:
		return r.WriteTable(w, color)
	}
}

// WriteFile writes the report to path atomically (a temporary file in the same directory, then renamed), so a CI
// system never reads half a report.
func (r *Report) WriteFile(path string, f Format) error {
	var b bytes.Buffer
	if err := r.Write(&b, f, false); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := atomicfile.Write(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
