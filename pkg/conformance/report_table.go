package conformance

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

// WriteTable prints a header naming what was tested, one row per case (case, severity, expected, got, verdict), for
// a failure a line on why it matters, the requests that crashed the API, the failures by severity, and last the
// summary line "N passed, N failed, N skipped". color adds ANSI colours to verdicts (terminals only).
func (r *Report) WriteTable(w io.Writer, color bool) error {
	var b strings.Builder
	r.writeHeader(&b)
	rows := [][4]string{{"CASE", "SEVERITY", "EXPECTED", "GOT"}}
	for _, res := range r.Results {
		got := "-"
		if res.Got != 0 {
			got = strconv.Itoa(res.Got)
			if code := challengeError(res.Challenge, res.Case.Expect.Scheme); code != "" && r.Profile != ProfileAuth0 {
				got += " " + code
			}
		}
		sev := res.Case.Severity
		if res.Verdict == Fail {
			sev = res.Severity
		}
		rows = append(rows, [4]string{res.Case.ID(), sev.String(), res.Case.Expect.For(r.Profile), got})
	}
	var width [4]int
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	line := func(row [4]string, verdict string) {
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %-*s  %s\n", width[0], row[0], width[1], row[1], width[2], row[2],
			width[3], row[3], verdict)
	}
	line(rows[0], "VERDICT")
	for i, res := range r.Results {
		line(rows[i+1], paint(res.Verdict, color))
		// A plain status mismatch is already in the row; say more only when the row does not.
		statusOnly := res.Got != 0 && res.Got < 500 && strings.HasPrefix(res.Detail, "expected ")
		if res.Detail != "" && !statusOnly {
			fmt.Fprintf(&b, "    %s\n", oneLine(res.Detail))
		}
		if res.Verdict == Fail {
			fmt.Fprintf(&b, "    why it matters: %s\n", res.Why)
		}
	}
	s := r.Summary()
	if crashes := r.Crashes(); len(crashes) > 0 {
		fmt.Fprintf(&b, "the API crashed or failed (no answer or 5xx, also when sent alone) on: %s\n", strings.Join(crashes, ", "))
	}
	b.WriteString(s.SeverityLine() + "\n")
	b.WriteString(s.String() + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// writeHeader names the API, the issuer and audience its tokens came for, the profile and the leeway.
func (r *Report) writeHeader(b *strings.Builder) {
	if r.API == "" {
		return
	}
	fmt.Fprintf(b, "API %s · profile %s", r.API, r.Profile)
	if r.Issuer != "" {
		fmt.Fprintf(b, " · issuer %s", r.Issuer)
	}
	if r.Audience != "" {
		fmt.Fprintf(b, " · audience %s", r.Audience)
	}
	b.WriteString("\n")
	if r.Leeway != "" {
		fmt.Fprintf(b, "clock leeway: %s\n", r.Leeway)
	}
	b.WriteString("\n")
}

func paint(v Verdict, color bool) string {
	label := map[Verdict]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}[v]
	if !color {
		return label
	}
	c := map[Verdict]string{Pass: ansiGreen, Fail: ansiRed, Skip: ansiYellow}[v]
	return c + label + ansiReset
}

// challengeError is the error code of the scheme's challenge ("" for Bearer) in a WWW-Authenticate value, "" if
// none or unparsable.
func challengeError(raw, scheme string) string {
	if raw == "" {
		return ""
	}
	return challengeParam(raw, scheme, "error")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
