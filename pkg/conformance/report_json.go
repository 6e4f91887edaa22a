package conformance

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

type jsonReport struct {
	API        string       `json:"api"`
	Issuer     string       `json:"issuer"`
	Audience   string       `json:"audience"`
	Profile    Profile      `json:"profile"`
	Leeway     string       `json:"leeway"`
	DurationMS int64        `json:"duration_ms"`
	Summary    jsonSummary  `json:"summary"`
	Crashes    []string     `json:"crashes"`
	Cases      []jsonResult `json:"cases"`
}

type jsonSummary struct {
	Passed   int              `json:"passed"`
	Failed   int              `json:"failed"`
	Skipped  int              `json:"skipped"`
	Failures map[Severity]int `json:"failures_by_severity"`
}

// jsonResult has every field on every case; null marks what there is none of (no answer, no failure).
type jsonResult struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Category        Category `json:"category"`
	Severity        Severity `json:"severity"`
	NeedsKey        bool     `json:"needs_key"`
	ExpectedStatus  int      `json:"expected_status"`
	AlsoAccepted    []int    `json:"also_accepted"`
	ExpectedError   *string  `json:"expected_error"`
	GotStatus       *int     `json:"got_status"`
	GotChallenge    *string  `json:"got_challenge"`
	Verdict         Verdict  `json:"verdict"`
	FailureSeverity *string  `json:"failure_severity"`
	Crashed         bool     `json:"crashed"`
	Detail          *string  `json:"detail"`
	Why             string   `json:"why"`
	FailureWhy      *string  `json:"failure_why"`
	DurationMS      int64    `json:"duration_ms"`
}

// WriteJSON prints the report as one JSON document, for scripts.
func (r *Report) WriteJSON(w io.Writer) error {
	s := r.Summary()
	failures := make(map[Severity]int, 4)
	for _, sev := range Severities() {
		failures[sev] = s.BySeverity[sev]
	}
	out := jsonReport{
		API: r.API, Issuer: r.Issuer, Audience: r.Audience, Profile: r.Profile, Leeway: r.Leeway,
		DurationMS: r.Duration.Milliseconds(),
		Summary:    jsonSummary{Passed: s.Passed, Failed: s.Failed, Skipped: s.Skipped, Failures: failures},
		Crashes:    append([]string{}, r.Crashes()...),
		Cases:      make([]jsonResult, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		c := res.Case
		jr := jsonResult{
			ID: c.ID(), Name: c.Name, Category: c.Category, Severity: c.Severity, NeedsKey: c.NeedsKey,
			ExpectedStatus: c.Expect.Status, AlsoAccepted: append([]int{}, c.Expect.Also...),
			ExpectedError: orNull(c.Expect.Error), GotChallenge: orNull(res.Challenge),
			Verdict: res.Verdict, Crashed: res.Crashed, Detail: orNull(res.Detail), Why: c.Why,
			DurationMS: res.Duration.Milliseconds(),
		}
		if res.Got != 0 {
			jr.GotStatus = &res.Got
		}
		if res.Verdict == Fail {
			jr.FailureSeverity, jr.FailureWhy = orNull(res.Severity.String()), orNull(res.Why)
		}
		out.Cases = append(out.Cases, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// orNull is s, or JSON null for "".
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// challengeParam is a parameter of the scheme's challenge ("" for Bearer) in a WWW-Authenticate value, "" if
// absent or unparsable.
func challengeParam(raw, scheme, name string) string {
	if scheme == "" {
		scheme = "Bearer"
	}
	chs, err := httpcall.ParseChallenges(raw)
	if err != nil {
		return ""
	}
	for _, ch := range chs {
		if ch.Is(scheme) {
			v, _ := ch.Param(name)
			return v
		}
	}
	return ""
}
