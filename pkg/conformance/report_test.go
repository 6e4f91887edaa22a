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
	pass := &Case{Name: "ok", Category: Quickstart, Why: "w1", Expect: Expect{Status: 200}}
	fail := &Case{Name: "alg-none", Category: Forged, Why: "anyone can forge", Expect: Expect{Status: 401, Error: "invalid_token"}}
	skip := &Case{Name: "expired", Category: Claims, NeedsKey: true, Why: "w3", Expect: Expect{Status: 401, Error: "invalid_token"}}
	return &Report{API: "http://api", Profile: ProfileRFC6750, Duration: 1500 * time.Millisecond, Results: []Result{
		{Case: pass, Got: 200, Verdict: Pass, Duration: time.Millisecond},
		{Case: fail, Got: 200, Challenge: "Bearer realm=\"api\"\x01<&>", Verdict: Fail, Detail: "expected 401 invalid_token, got 200"},
		{Case: skip, Verdict: Skip, Detail: needsStandIn},
	}}
}

func TestWriteTable(t *testing.T) {
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		rep := sampleReport()
		noChallenge := &Case{Name: "bad-sig", Category: Quickstart, Why: "w4", Expect: Expect{Status: 401, Error: "invalid_token"}}
		rep.Results = append(rep.Results, Result{Case: noChallenge, Got: 401, Verdict: Fail, Detail: "no WWW-Authenticate challenge on a 401"})
		if err := rep.WriteTable(&out, color); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if last := lines[len(lines)-1]; last != "1 passed, 2 failed, 1 skipped" {
			t.Errorf("color=%v: last line %q", color, last)
		}
		if hasANSI := strings.Contains(out.String(), "\x1b["); hasANSI != color {
			t.Errorf("color=%v: ANSI escapes present=%v", color, hasANSI)
		}
		for _, want := range []string{"forged/alg-none", "why it matters: anyone can forge", needsStandIn,
			"no WWW-Authenticate challenge on a 401", "why it matters: w4"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("color=%v: table lacks %q:\n%s", color, want, out.String())
			}
		}
		if strings.Contains(out.String(), "expected 401 invalid_token, got 200") {
			t.Errorf("color=%v: a plain status mismatch repeated below its row:\n%s", color, out.String())
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
		!strings.Contains(tc.Failure.Text, "anyone can forge") || !strings.Contains(tc.Failure.Text, "<&>") {
		t.Errorf("failed case = %+v", tc)
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
	if got.Summary != (jsonSummary{Passed: 1, Failed: 1, Skipped: 1}) || len(got.Cases) != 3 || got.Profile != ProfileRFC6750 {
		t.Fatalf("report = %+v", got)
	}
	if c := got.Cases[1]; c.ID != "forged/alg-none" || c.Verdict != Fail || c.ExpectedStatus != 401 ||
		c.ExpectedError != "invalid_token" || c.GotStatus != 200 || c.Why == "" {
		t.Errorf("case = %+v", c)
	}
	if !got.Cases[2].NeedsKey {
		t.Errorf("needs_key lost")
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
