package conformance

import (
	"errors"
	"fmt"
	"strings"
)

// Severity ranks how much a failed case matters, so a user can gate a build on what is dangerous (--fail-on)
// without ignoring the rest.
type Severity int

// The severities, least to most serious. The zero value is no severity (a case that passed).
const (
	// Low is the form RFC 6750 gives answers: challenge, error code, body.
	Low Severity = iota + 1
	// Medium is a valid token refused, or a weaker check: typ, crit, nbf/iat, leeway, token in the URL, CORS.
	Medium
	// High is a token valid in form but wrong in its claims accepted, a scope bypass, or a crash or 5xx.
	High
	// Critical is a forged or foreign token accepted: anyone can get in.
	Critical
)

var severityNames = map[Severity]string{Low: "low", Medium: "medium", High: "high", Critical: "critical"}

// Severities lists every severity from the most serious down, the order reports count them in.
func Severities() []Severity { return []Severity{Critical, High, Medium, Low} }

// String is the lower-case name reports and --fail-on use; "" for no severity.
func (s Severity) String() string { return severityNames[s] }

// MarshalText writes the name, so JSON reports carry "high" rather than a number.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the name, so JSON reports parse back.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity checks a --fail-on value.
func ParseSeverity(s string) (Severity, error) {
	for sev, name := range severityNames {
		if strings.EqualFold(s, name) {
			return sev, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use critical, high, medium or low", s)
}

// Finding is a check's failure with its own severity and its own "why it matters", for checks whose failure means
// something else than the case's main one (a challenge missing on a correct 401 is low, whatever the case).
type Finding struct {
	Severity Severity
	Why      string
	Msg      string
}

// Error is the detail a report prints.
func (f *Finding) Error() string { return f.Msg }

// findingf builds a Finding.
func findingf(sev Severity, why, format string, args ...any) *Finding {
	return &Finding{Severity: sev, Why: why, Msg: fmt.Sprintf(format, args...)}
}

// asFinding turns a check's error into a Finding, giving a plain error the case's own severity and reason, and a
// Finding without a reason the case's.
func asFinding(err error, c *Case) *Finding {
	var f *Finding
	if errors.As(err, &f) {
		if f.Why == "" {
			g := *f
			g.Why = c.Why
			return &g
		}
		return f
	}
	return &Finding{Severity: c.Severity, Why: c.Why, Msg: err.Error()}
}

// The reasons shared by every case's form checks.
const (
	whyChallenge = "clients read WWW-Authenticate to learn why they were refused and how to get a token (RFC 6750 §3)"
	whyStatus    = "the API refused the token, but with another status: clients tell missing, invalid and " +
		"insufficient credentials apart by it (RFC 6750 §3.1)"
	whyJSON     = "clients of a JSON API parse its answers; another content type breaks them"
	whyRedirect = "API clients follow no login redirects: they need a 401 with a challenge (RFC 6750 §3)"
	whyCrash    = "the API crashed or failed on this request: anyone can send it, to take the API down or probe it"
)
