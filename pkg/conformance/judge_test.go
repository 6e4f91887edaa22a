package conformance

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

func TestJudge(t *testing.T) {
	invalid := Expect{Status: 401, Error: "invalid_token"}
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name    string
		profile Profile
		expect  Expect
		status  int
		header  http.Header
		want    Verdict
		detail  string
	}{
		{"right status and code", ProfileRFC6750, invalid, 401, h("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`), Pass, ""},
		{"accepted bad token", ProfileRFC6750, invalid, 200, nil, Fail, "expected 401 invalid_token, got 200"},
		{"server error", ProfileAuth0, invalid, 500, nil, Fail, "server error"},
		{"no challenge", ProfileRFC6750, invalid, 401, nil, Fail, "no WWW-Authenticate"},
		{"no challenge, auth0 profile", ProfileAuth0, invalid, 401, nil, Pass, ""},
		{"other scheme only", ProfileRFC6750, invalid, 401, h("WWW-Authenticate", `Basic realm="x"`), Fail, "no Bearer challenge"},
		{"bearer among several", ProfileRFC6750, invalid, 401, h("WWW-Authenticate", `Basic realm="x", Bearer error="invalid_token"`), Pass, ""},
		{"wrong code", ProfileRFC6750, invalid, 401, h("WWW-Authenticate", `Bearer error="invalid_request"`), Fail, `error="invalid_request", want "invalid_token"`},
		{"missing code", ProfileRFC6750, invalid, 401, h("WWW-Authenticate", `Bearer realm="api"`), Fail, "no error code"},
		{"code without credentials", ProfileRFC6750, Expect{Status: 401}, 401, h("WWW-Authenticate", `Bearer error="invalid_token"`), Fail, "no error code"},
		{"no code without credentials", ProfileRFC6750, Expect{Status: 401}, 401, h("WWW-Authenticate", `bearer realm="api"`), Pass, ""},
		{"malformed challenge", ProfileRFC6750, invalid, 401, h("WWW-Authenticate", `Bearer error="unterminated`), Fail, "malformed"},
		{"403 needs a challenge too", ProfileRFC6750, Expect{Status: 403, Error: "insufficient_scope"}, 403, nil, Fail, "no WWW-Authenticate"},
		{"alternative status skips code", ProfileRFC6750, Expect{Status: 401, Error: "invalid_token", Also: []int{400}}, 400, nil, Pass, ""},
		{"400 with code", ProfileRFC6750, Expect{Status: 400, Error: "invalid_request"}, 400, h("WWW-Authenticate", `Bearer error="invalid_request"`), Pass, ""},
		{"400 without challenge", ProfileRFC6750, Expect{Status: 400, Error: "invalid_request"}, 400, nil, Fail, "no WWW-Authenticate"},
		{"JSON body", ProfileRFC6750, Expect{Status: 200, JSON: true}, 200, h("Content-Type", "application/json; charset=utf-8"), Pass, ""},
		{"HTML body", ProfileRFC6750, Expect{Status: 200, JSON: true}, 200, h("Content-Type", "text/html"), Fail, "want application/json"},
		{"HTML body, auth0 profile", ProfileAuth0, Expect{Status: 200, JSON: true}, 200, h("Content-Type", "text/html"), Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRunner(WithProfile(tt.profile))
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			got, detail := r.judge(context.Background(), &Env{}, &Case{Expect: tt.expect},
				&httpcall.Response{Status: tt.status, Header: header})
			if got != tt.want || !strings.Contains(detail, tt.detail) {
				t.Errorf("judge = %s %q, want %s containing %q", got, detail, tt.want, tt.detail)
			}
		})
	}
}
