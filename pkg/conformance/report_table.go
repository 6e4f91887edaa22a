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

// WriteTable prints one row per case (case, expected, got, verdict), for a failure a line on why it matters, and
// last the summary line "N passed, N failed, N skipped". color adds ANSI colours to verdicts (terminals only).
func (r *Report) WriteTable(w io.Writer, color bool) error {
	rows := [][3]string{{"CASE", "EXPECTED", "GOT"}}
	for _, res := range r.Results {
		got := "-"
		if res.Got != 0 {
			got = strconv.Itoa(res.Got)
			if code := challengeError(res.Challenge); code != "" {
				got += " " + code
			}
		}
		rows = append(rows, [3]string{res.Case.ID(), res.Case.Expect.String(), got})
	}
	var width [3]int
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	var b strings.Builder
	line := func(row [3]string, verdict string) {
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %s\n", width[0], row[0], width[1], row[1], width[2], row[2], verdict)
	}
	line(rows[0], "VERDICT")
	for i, res := range r.Results {
		line(rows[i+1], paint(res.Verdict, color))
		// A plain status mismatch is already in the row; say more only when the row does not.
		statusOnly := res.Got != 0 && res.Got < 500 && !res.Case.Expect.accepts(res.Got)
		if res.Detail != "" && !statusOnly {
			fmt.Fprintf(&b, "    %s\n", oneLine(res.Detail))
		}
		if res.Verdict == Fail {
			fmt.Fprintf(&b, "    why it matters: %s\n", res.Case.Why)
		}
	}
	b.WriteString(r.Summary().String() + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func paint(v Verdict, color bool) string {
	label := map[Verdict]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}[v]
	if !color {
		return label
	}
	c := map[Verdict]string{Pass: ansiGreen, Fail: ansiRed, Skip: ansiYellow}[v]
	return c + label + ansiReset
}

// challengeError is the Bearer error code in a WWW-Authenticate value, "" if none or unparsable.
func challengeError(raw string) string {
	if raw == "" {
		return ""
	}
	return bearerParam(raw, "error")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
