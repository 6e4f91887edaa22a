package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// JUnit XML as Jenkins, GitLab and GitHub test reporters read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Failure    *junitMessage   `xml:"failure,omitempty"`
	Skipped    *junitMessage   `xml:"skipped,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit prints the report as JUnit XML, one test suite per category, for CI systems.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := r.Summary()
	out := junitSuites{
		Name: "tokencheck " + string(r.Profile), Tests: len(r.Results), Failures: s.Failed, Skipped: s.Skipped,
		Time: seconds(r.Duration),
	}
	index := map[Category]int{}
	for _, res := range r.Results {
		c := res.Case
		i, ok := index[c.Category]
		if !ok {
			i = len(out.Suites)
			index[c.Category] = i
			out.Suites = append(out.Suites, junitSuite{Name: string(c.Category)})
		}
		suite := &out.Suites[i]
		tc := junitCase{Name: c.Name, Classname: "tokencheck." + string(c.Category), Time: seconds(res.Duration),
			Properties: []junitProperty{{Name: "severity", Value: c.Severity.String()}}}
		switch res.Verdict {
		case Fail:
			tc.Properties = append(tc.Properties, junitProperty{Name: "failure_severity", Value: res.Severity.String()})
			tc.Failure = &junitMessage{
				Message: res.Detail, Type: res.Severity.String() + ": expected " + c.Expect.For(r.Profile),
				Text: fmt.Sprintf("severity: %s\n%s\nwhy it matters: %s\nWWW-Authenticate: %s",
					res.Severity, res.Detail, res.Why, res.Challenge),
			}
			suite.Failures++
		case Skip:
			tc.Skipped = &junitMessage{Message: res.Detail}
			suite.Skipped++
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, tc)
	}
	for i := range out.Suites {
		var d time.Duration
		for _, res := range r.Results {
			if string(res.Case.Category) == out.Suites[i].Name {
				d += res.Duration
			}
		}
		out.Suites[i].Time = seconds(d)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
