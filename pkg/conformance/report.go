package conformance

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Report is one run of the suite, as the reporters print it.
type Report struct {
	API      string
	Profile  Profile
	Results  []Result
	Duration time.Duration
}

// Summary counts verdicts.
type Summary struct {
	Passed, Failed, Skipped int
}

// String is the last line of the table format, fixed by the contract.
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

// Summary counts the report's verdicts.
func (r *Report) Summary() Summary {
	var s Summary
	for _, res := range r.Results {
		switch res.Verdict {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		case Skip:
			s.Skipped++
		}
	}
	return s
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
func (r *Report) WriteFile(path string, f Format) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = r.Write(tmp, f, false); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
