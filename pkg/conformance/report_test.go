package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	pass := &Case{Name: "ok", Category: Quickstart, Severity: Medium, Why: "w1", Expect: Expect{Status: 200}}
	fail := &Case{Name: "alg-none", Category: Forged, Severity: Critical, Why: "anyone can forge", Expect: Expect{Status: 401, Error: "invalid_token"}}
	skip := &Case{Name: "expired", Category: Claims, Severity: High, NeedsKey: true, Why: "w3", Expect: Expect{Status: 401, Error: "invalid_token"}}
	return &Report{API: "http://api", Issuer: "http://tenant/", Audience: "https://aud", Leeway: "30s (measured)",
		Profile: ProfileRFC6750, Duration: 1500 * time.Millisecond, Results: []Result{
			{Case: pass, Got: 200, Verdict: Pass, Duration: time.Millisecond},
			{Case: fail, Got: 200, Challenge: "Bearer realm=\"api\"\x01<&>", Verdict: Fail, Detail: "expected 401 invalid_token, got 200",
				Severity: Critical, Why: fail.Why},
			{Case: skip, Verdict: Skip, Detail: needsStandIn},
		}}
}

func TestWriteTable(t *testing.T) {
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		rep := sampleReport()
		noChallenge := &Case{Name: "bad-sig", Category: Quickstart, Why: "w4", Expect: Expect{Status: 401, Error: "invalid_token"}}
		rep.Results = append(rep.Results, Result{Case: noChallenge, Got: 401, Verdict: Fail,
			Detail: "no WWW-Authenticate challenge on a 401", Severity: Low, Why: whyChallenge})
		crash := &Case{Name: "kid-null", Category: Claims, Severity: Medium, Why: "w5", Expect: Expect{Status: 401}}
		rep.Results = append(rep.Results, Result{Case: crash, Verdict: Fail, Detail: "no answer: EOF", Severity: High,
			Why: whyCrash, Crashed: true})
		if err := rep.WriteTable(&out, color); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if last := lines[len(lines)-1]; last != "1 passed, 3 failed, 1 skipped" {
			t.Errorf("color=%v: last line %q", color, last)
		}
		if above := lines[len(lines)-2]; above != "failures: 1 critical, 1 high, 0 medium, 1 low" {
			t.Errorf("color=%v: severity line %q", color, above)
		}
		if hasANSI := strings.Contains(out.String(), "\x1b["); hasANSI != color {
			t.Errorf("color=%v: ANSI escapes present=%v", color, hasANSI)
		}
		for _, want := range []string{"forged/alg-none", "why it matters: anyone can forge", needsStandIn,
			"no WWW-Authenticate challenge on a 401", "why it matters: " + whyChallenge, "why it matters: " + whyCrash,
			"crashed or failed (no answer or 5xx, also when sent alone) on: claims/kid-null",
			"API http://api · profile rfc6750 · issuer http://tenant/ · audience https://aud", "clock leeway: 30s (measured)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("color=%v: table lacks %q:\n%s", color, want, out.String())
			}
		}
		if strings.Contains(out.String(), "expected 401 invalid_token, got 200") {
			t.Errorf("color=%v: a plain status mismatch repeated below its row:\n%s", color, out.String())
		}
		if strings.Contains(out.String(), "why it matters: w4") {
			t.Errorf("color=%v: a missing challenge explained with the case's own reason:\n%s", color, out.String())
		}
		rows := map[string]string{}
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 2 {
				rows[f[0]] = f[1]
			}
		}
		for id, sev := range map[string]string{"forged/alg-none": "critical", "quickstart/bad-sig": "low", "quickstart/ok": "medium"} {
			if rows[id] != sev {
				t.Errorf("color=%v: row %s has severity %q, want %q:\n%s", color, id, rows[id], sev, out.String())
			}
		}
	}
}

func TestWriteJUnitParsesBack(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteJUnit(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), xml.Header) {
		t.Errorf("no XML declaration")
	}
	var got junitSuites
	if err := xml.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, out.String())
	}
	if got.Tests != 3 || got.Failures != 1 || got.Skipped != 1 || len(got.Suites) != 3 {
		t.Fatalf("totals tests=%d failures=%d skipped=%d suites=%d", got.Tests, got.Failures, got.Skipped, len(got.Suites))
	}
	forged := got.Suites[1]
	if forged.Name != "forged" || forged.Failures != 1 || len(forged.Cases) != 1 {
		t.Fatalf("forged suite = %+v", forged)
	}
	tc := forged.Cases[0]
	if tc.Name != "alg-none" || tc.Classname != "tokencheck.forged" || tc.Failure == nil ||
		!strings.Contains(tc.Failure.Text, "anyone can forge") || !strings.Contains(tc.Failure.Text, "<&>") ||
		!strings.HasPrefix(tc.Failure.Type, "critical:") {
		t.Errorf("failed case = %+v", tc)
	}
	if len(tc.Properties) != 2 || tc.Properties[0] != (junitProperty{"severity", "critical"}) ||
		tc.Properties[1] != (junitProperty{"failure_severity", "critical"}) {
		t.Errorf("properties = %+v", tc.Properties)
	}
	if sk := got.Suites[2].Cases[0].Skipped; sk == nil || sk.Message != needsStandIn {
		t.Errorf("skipped case = %+v", got.Suites[2].Cases[0])
	}
	if got.Suites[0].Cases[0].Failure != nil || got.Suites[0].Cases[0].Skipped != nil {
		t.Errorf("passing case carries a failure or skip")
	}
}

func TestWriteJSON(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var got jsonReport
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	s := got.Summary
	if s.Passed != 1 || s.Failed != 1 || s.Skipped != 1 || s.Failures[Critical] != 1 || len(s.Failures) != 4 ||
		len(got.Cases) != 3 || got.Profile != ProfileRFC6750 || got.Issuer != "http://tenant/" || got.Leeway == "" {
		t.Fatalf("report = %+v", got)
	}
	if c := got.Cases[1]; c.ID != "forged/alg-none" || c.Verdict != Fail || c.ExpectedStatus != 401 ||
		c.ExpectedError == nil || *c.ExpectedError != "invalid_token" || c.GotStatus == nil || *c.GotStatus != 200 ||
		c.Why == "" || c.Severity != Critical || c.FailureSeverity == nil || *c.FailureSeverity != "critical" {
		t.Errorf("case = %+v", c)
	}
	if !got.Cases[2].NeedsKey {
		t.Errorf("needs_key lost")
	}
	// Every field on every case, null where there is nothing.
	var raw struct {
		Cases []map[string]json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	fields := []string{"id", "name", "category", "severity", "needs_key", "expected_status", "also_accepted",
		"expected_error", "got_status", "got_challenge", "verdict", "failure_severity", "crashed", "detail", "why",
		"failure_why", "duration_ms"}
	for i, c := range raw.Cases {
		for _, f := range fields {
			if _, ok := c[f]; !ok {
				t.Errorf("case %d lacks %q", i, f)
			}
		}
	}
	skipped := raw.Cases[2]
	for _, f := range []string{"got_status", "got_challenge", "failure_severity", "failure_why"} {
		if string(skipped[f]) != "null" {
			t.Errorf("skipped case: %s = %s, want null", f, skipped[f])
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.xml")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sampleReport().WriteFile(path, FormatJUnit); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(data, &got); err != nil || got.Tests != 3 {
		t.Fatalf("file is not the JUnit report: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := sampleReport().WriteFile(filepath.Join(dir, "missing", "r.json"), FormatJSON); err == nil {
		t.Errorf("writing into a missing directory succeeded")
	}
}

func TestParseFlags(t *testing.T) {
	for _, s := range []string{"table", "json", "junit"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	for _, s := range []string{"auth0", "rfc6750"} {
		if _, err := ParseProfile(s); err != nil {
			t.Errorf("ParseProfile(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Errorf("ParseFormat(xml) accepted")
	}
	if _, err := ParseProfile("strict"); err == nil {
		t.Errorf("ParseProfile(strict) accepted")
	}
}
