package conformance

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// rfc6750Cases check bearer-token usage beyond status codes: scheme matching and a token in two places. Every case
// in every category also checks its challenge under the rfc6750 profile.
func rfc6750Cases() []Case {
	return []Case{
		{
			Name: "scheme-lowercase", Why: "auth schemes are case-insensitive (RFC 7235 §2.1); clients send \"bearer\"",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, http.Header{"Authorization": {"bearer " + env.ScopedToken}}), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "token-in-header-and-query", Why: "a token in two places is ambiguous and must be refused (RFC 6750 §2)",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				req := request(env, env.Paths.Private, bearer(env.ScopedToken))
				req.URL += "?access_token=" + url.QueryEscape(env.ScopedToken)
				return req, nil
			},
			Expect: Expect{Status: http.StatusBadRequest, Error: "invalid_request"},
		},
		{
			Name: "token-in-header-and-body", Why: "a token in two places is ambiguous and must be refused (RFC 6750 §2)",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				req := request(env, env.Paths.Private, bearer(env.ScopedToken))
				req.Method = http.MethodPost
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Body = []byte(url.Values{"access_token": {env.ScopedToken}}.Encode())
				return req, nil
			},
			// A GET-only route may answer 404 or 405 to POST before it looks at the token, which is fine.
			Expect: Expect{Status: http.StatusBadRequest, Error: "invalid_request",
				Also: []int{http.StatusNotFound, http.StatusMethodNotAllowed}},
		},
	}
}
