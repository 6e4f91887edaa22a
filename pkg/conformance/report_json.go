package conformance

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

type jsonReport struct {
	API        string       `json:"api"`
	Profile    Profile      `json:"profile"`
	DurationMS int64        `json:"duration_ms"`
	Summary    jsonSummary  `json:"summary"`
	Cases      []jsonResult `json:"cases"`
}

type jsonSummary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

type jsonResult struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Category       Category `json:"category"`
	NeedsKey       bool     `json:"needs_key"`
	ExpectedStatus int      `json:"expected_status"`
	AlsoAccepted   []int    `json:"also_accepted,omitempty"`
	ExpectedError  string   `json:"expected_error,omitempty"`
	GotStatus      int      `json:"got_status,omitempty"`
	GotChallenge   string   `json:"got_challenge,omitempty"`
	Verdict        Verdict  `json:"verdict"`
	Detail         string   `json:"detail,omitempty"`
	Why            string   `json:"why"`
	DurationMS     int64    `json:"duration_ms"`
}

// WriteJSON prints the report as one JSON document, for scripts.
func (r *Report) WriteJSON(w io.Writer) error {
	s := r.Summary()
	out := jsonReport{
		API: r.API, Profile: r.Profile, DurationMS: r.Duration.Milliseconds(),
		Summary: jsonSummary(s),
		Cases:   make([]jsonResult, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		c := res.Case
		out.Cases = append(out.Cases, jsonResult{
			ID: c.ID(), Name: c.Name, Category: c.Category, NeedsKey: c.NeedsKey,
			ExpectedStatus: c.Expect.Status, AlsoAccepted: c.Expect.Also, ExpectedError: c.Expect.Error,
			GotStatus: res.Got, GotChallenge: res.Challenge, Verdict: res.Verdict, Detail: res.Detail, Why: c.Why,
			DurationMS: res.Duration.Milliseconds(),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// bearerParam is a parameter of the Bearer challenge in a WWW-Authenticate value, "" if absent or unparsable.
func bearerParam(raw, name string) string {
	chs, err := httpcall.ParseChallenges(raw)
	if err != nil {
		return ""
	}
	for _, ch := range chs {
		if ch.Is("Bearer") {
			v, _ := ch.Param(name)
			return v
		}
	}
	return ""
}
