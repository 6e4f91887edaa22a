package conformance

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

func TestJudge(t *testing.T) {
	invalid := Expect{Status: 401, Error: "invalid_token"}
	refusal := Expect{Status: 401, AnyRefusal: true}
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	failingCheck := func(context.Context, *Env, *httpcall.Response) (string, error) {
		return "", errors.New("the check failed")
	}
	lowCheck := func(context.Context, *Env, *httpcall.Response) (string, error) {
		return "", findingf(Low, "a reason", "a low finding")
	}
	tests := []struct {
		name     string
		profile  Profile
		c        Case
		status   int
		header   http.Header
		want     Verdict
		detail   string
		severity Severity
	}{
		{"right status and code", ProfileRFC6750, Case{Expect: invalid}, 401, h("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`), Pass, "", 0},
		{"accepted bad token", ProfileRFC6750, Case{Expect: invalid, Severity: Critical}, 200, nil, Fail, "expected 401 invalid_token, got 200", Critical},
		{"server error", ProfileAuth0, Case{Expect: invalid, Severity: Critical}, 500, nil, Fail, "failed on this request", High},
		{"refused with another 4xx", ProfileAuth0, Case{Expect: invalid, Severity: Critical}, 403, nil, Fail, "expected 401", Low},
		{"redirect instead of a refusal", ProfileAuth0, Case{Expect: invalid, Severity: Critical}, 302, nil, Fail, "a redirect", Low},
		{"valid token refused", ProfileAuth0, Case{Expect: Expect{Status: 200}, Severity: Medium}, 401, nil, Fail, "expected 200", Medium},
		{"no challenge", ProfileRFC6750, Case{Expect: invalid, Severity: Critical}, 401, nil, Fail, "no WWW-Authenticate", Low},
		{"no challenge, auth0 profile", ProfileAuth0, Case{Expect: invalid}, 401, nil, Pass, "", 0},
		{"other scheme only", ProfileRFC6750, Case{Expect: invalid}, 401, h("WWW-Authenticate", `Basic realm="x"`), Fail, "no Bearer challenge", Low},
		{"bearer among several", ProfileRFC6750, Case{Expect: invalid}, 401, h("WWW-Authenticate", `Basic realm="x", Bearer error="invalid_token"`), Pass, "", 0},
		{"wrong code", ProfileRFC6750, Case{Expect: invalid}, 401, h("WWW-Authenticate", `Bearer error="invalid_request"`), Fail, `error="invalid_request", want "invalid_token"`, Low},
		{"missing code", ProfileRFC6750, Case{Expect: invalid}, 401, h("WWW-Authenticate", `Bearer realm="api"`), Fail, "no error code", Low},
		{"any code allowed", ProfileRFC6750, Case{Expect: Expect{Status: 401, AnyError: true}}, 401, h("WWW-Authenticate", `Bearer error="invalid_request"`), Pass, "", 0},
		{"code without credentials", ProfileRFC6750, Case{Expect: Expect{Status: 401}}, 401, h("WWW-Authenticate", `Bearer error="invalid_token"`), Fail, "no error code", Low},
		{"no code without credentials", ProfileRFC6750, Case{Expect: Expect{Status: 401}}, 401, h("WWW-Authenticate", `bearer realm="api"`), Pass, "", 0},
		{"malformed challenge", ProfileRFC6750, Case{Expect: invalid}, 401, h("WWW-Authenticate", `Bearer error="unterminated`), Fail, "malformed", Low},
		{"403 needs a challenge too", ProfileRFC6750, Case{Expect: Expect{Status: 403, Error: "insufficient_scope"}}, 403, nil, Fail, "no WWW-Authenticate", Low},
		{"alternative 400 without challenge", ProfileRFC6750, Case{Expect: Expect{Status: 401, Error: "invalid_token", Also: []int{400}}}, 400, nil, Pass, "", 0},
		{"alternative 400 with invalid_request", ProfileRFC6750, Case{Expect: Expect{Status: 401, Error: "invalid_token", Also: []int{400}}}, 400, h("WWW-Authenticate", `Bearer error="invalid_request"`), Pass, "", 0},
		{"400 with another code", ProfileRFC6750, Case{Expect: Expect{Status: 401, Error: "invalid_token", Also: []int{400}}}, 400, h("WWW-Authenticate", `Bearer error="invalid_token"`), Fail, "want invalid_request", Low},
		{"400 with code", ProfileRFC6750, Case{Expect: Expect{Status: 400, Error: "invalid_request"}}, 400, h("WWW-Authenticate", `Bearer error="invalid_request"`), Pass, "", 0},
		{"400 without challenge (RFC 6750 §3 makes it optional)", ProfileRFC6750, Case{Expect: Expect{Status: 400, Error: "invalid_request"}}, 400, nil, Pass, "", 0},
		{"any refusal: a bare 403", ProfileRFC6750, Case{Expect: refusal, Severity: High}, 403, nil, Pass, "", 0},
		{"any refusal: a bare 400", ProfileRFC6750, Case{Expect: refusal, Severity: High}, 400, nil, Pass, "", 0},
		{"any refusal: 501", ProfileRFC6750, Case{Expect: refusal, Severity: High}, 501, nil, Pass, "", 0},
		{"any refusal: a 401 still owes its challenge", ProfileRFC6750, Case{Expect: refusal, Severity: High}, 401, nil, Fail, "no WWW-Authenticate", Low},
		{"any refusal: 200 is the case's failure", ProfileRFC6750, Case{Expect: refusal, Severity: High}, 200, nil, Fail, "expected 401|4xx|501, got 200", High},
		{"any refusal: 500 is a crash", ProfileAuth0, Case{Expect: refusal, Severity: Medium}, 500, nil, Fail, "failed on this request", High},
		{"any refusal: the named 400 keeps its form", ProfileRFC6750, Case{Expect: Expect{Status: 400, Error: "invalid_request", AnyRefusal: true}}, 400, h("WWW-Authenticate", `Bearer error="invalid_token"`), Fail, "want invalid_request", Low},
		{"JSON body", ProfileRFC6750, Case{Expect: Expect{Status: 200, JSON: true}}, 200, h("Content-Type", "application/json; charset=utf-8"), Pass, "", 0},
		{"HTML body", ProfileRFC6750, Case{Expect: Expect{Status: 200, JSON: true}}, 200, h("Content-Type", "text/html"), Fail, "want application/json", Low},
		{"HTML body, auth0 profile", ProfileAuth0, Case{Expect: Expect{Status: 200, JSON: true}}, 200, h("Content-Type", "text/html"), Pass, "", 0},
		{"CORS case: a bare 403 needs no challenge", ProfileRFC6750, Case{Category: CORS, Expect: Expect{Status: 200, Also: []int{403}}}, 403, nil, Pass, "", 0},
		{"check runs under auth0 too", ProfileAuth0, Case{Expect: invalid, Severity: Critical, Check: failingCheck}, 401, nil, Fail, "the check failed", Critical},
		{"check's own severity", ProfileAuth0, Case{Expect: invalid, Severity: Critical, Check: lowCheck}, 401, nil, Fail, "a low finding", Low},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRunner(WithProfile(tt.profile))
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			j := r.judge(context.Background(), &Env{}, &tt.c, tt.c.Expect, &httpcall.Response{Status: tt.status, Header: header})
			if j.verdict != tt.want || !strings.Contains(j.detail, tt.detail) {
				t.Errorf("judge = %s %q, want %s containing %q", j.verdict, j.detail, tt.want, tt.detail)
			}
			var sev Severity
			if j.finding != nil {
				sev = j.finding.Severity
			}
			if sev != tt.severity {
				t.Errorf("severity %s, want %s", sev, tt.severity)
			}
		})
	}
}

func TestParseSeverity(t *testing.T) {
	for _, s := range []string{"critical", "HIGH", "medium", "low"} {
		if _, err := ParseSeverity(s); err != nil {
			t.Errorf("ParseSeverity(%q): %v", s, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity accepted severe")
	}
	if Critical <= High || High <= Medium || Medium <= Low {
		t.Error("severities are not ordered")
	}
}
