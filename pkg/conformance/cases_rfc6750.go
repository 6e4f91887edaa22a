package conformance

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// rfc6750Cases check bearer-token usage beyond status codes: scheme matching, a token in two places, a token in the
// URL. Every case in every category also checks its challenge under the rfc6750 profile.
func rfc6750Cases() []Case {
	// RFC 6750 §3.1 says a request with a token in two places SHOULD get 400 invalid_request; an API that never
	// reads access_token at all sees one token, and answering it is a legitimate choice too.
	ignoredOr400 := func(others ...int) Expect {
		return Expect{Status: http.StatusBadRequest, Error: "invalid_request", Also: append([]int{http.StatusOK}, others...)}
	}
	anyRefusal := func(e Expect) Expect { e.AnyRefusal = true; return e }
	notedIfIgnored := func(_ context.Context, _ *Env, resp *httpcall.Response) (string, error) {
		if resp.Status == http.StatusOK {
			return "the API ignores access_token and used the header's token; RFC 6750 §3.1's 400 is a SHOULD", nil
		}
		return "", nil
	}
	return []Case{
		{
			Name: "scheme-lowercase", Severity: Medium,
			Why: "the API refuses \"bearer\": auth schemes are case-insensitive (RFC 7235 §2.1) and clients send it",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, http.Header{"Authorization": {"bearer " + env.ScopedToken}}), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "token-in-header-and-query", Severity: Low,
			Why: "the API picks one of two tokens in a request, which RFC 6750 §2 calls ambiguous",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				req := request(env, env.Paths.Private, bearer(env.ScopedToken))
				if req.URL != "" {
					req.URL += "?access_token=" + url.QueryEscape(env.ScopedToken)
				}
				return req, nil
			},
			Expect: ignoredOr400(), Check: notedIfIgnored,
		},
		{
			Name: "token-in-header-and-body", Severity: Low,
			Why: "the API picks one of two tokens in a request, which RFC 6750 §2 calls ambiguous",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				req := request(env, env.Paths.Private, bearer(env.ScopedToken))
				req.Method = http.MethodPost
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Body = []byte(url.Values{"access_token": {env.ScopedToken}}.Encode())
				return req, nil
			},
			// A GET-only route may refuse the POST in its own way before it looks at the token (404, 405, a bare
			// 403 or 400, ...), which is fine: no token was picked.
			Expect: anyRefusal(ignoredOr400(http.StatusNotFound, http.StatusMethodNotAllowed)), Check: notedIfIgnored,
		},
		{
			Name: "token-in-query-only", Severity: Medium,
			Why: "the API takes a token from the URL, where logs, proxies, browser history and Referer headers " +
				"leak it (RFC 6750 §2.3, RFC 9700 §4.3.2)",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				req := request(env, env.Paths.Private, nil)
				if req.URL != "" {
					req.URL += "?access_token=" + url.QueryEscape(env.ScopedToken)
				}
				return req, nil
			},
			// Without a header the API has no credentials (401, no error code), or it refuses the query token
			// (400 invalid_request, or a 401 with an error code): every one of these refuses it.
			Expect: Expect{Status: http.StatusUnauthorized, AnyError: true, Also: []int{http.StatusBadRequest}},
		},
	}
}
