package conformance

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

// WriteTable prints one row per case (case, expected, got, verdict), a line on why each failure matters, and last
// the summary line "N passed, N failed, N skipped". color adds ANSI colours to verdicts (terminals only).
func (r *Report) WriteTable(w io.Writer, color bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tEXPECTED\tGOT\tVERDICT")
	for _, res := range r.Results {
		got := "-"
		if res.Got != 0 {
			got = strconv.Itoa(res.Got)
			if code := challengeError(res.Challenge); code != "" {
				got += " " + code
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Case.ID(), res.Case.Expect, got, paint(res.Verdict, color))
		switch {
		case res.Verdict == Fail:
			fmt.Fprintf(tw, "  ↳ %s\t\t\t\n", oneLine(res.Detail))
			fmt.Fprintf(tw, "  ↳ why it matters: %s\t\t\t\n", res.Case.Why)
		case res.Verdict == Skip && res.Detail != "":
			fmt.Fprintf(tw, "  ↳ %s\t\t\t\n", oneLine(res.Detail))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
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
