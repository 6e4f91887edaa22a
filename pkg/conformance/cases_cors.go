package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// corsCases check what browser clients (like the quickstarts' single-page apps) need: a preflight that needs no
// token, and CORS headers on errors so the app can read the status and the challenge.
func corsCases() []Case {
	withOrigin := func(origin string, req httpcall.Request) httpcall.Request {
		req.Header.Set("Origin", origin)
		return req
	}
	return []Case{
		{
			Name: "preflight", Why: "a browser sends preflights without a token; refusing them breaks every web client",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				req := withOrigin(env.Origin, request(env, env.Paths.Private, nil))
				req.Method = http.MethodOptions
				req.Header.Set("Access-Control-Request-Method", http.MethodGet)
				req.Header.Set("Access-Control-Request-Headers", "authorization")
				return req, nil
			},
			Expect: Expect{Status: http.StatusNoContent, Also: []int{http.StatusOK}},
			Check: func(_ context.Context, env *Env, resp *httpcall.Response) (string, error) {
				if err := allowsOrigin(resp, env.Origin); err != nil {
					return "", err
				}
				if !listContains(resp.Header.Values("Access-Control-Allow-Headers"), "Authorization") {
					return "", errors.New("Access-Control-Allow-Headers does not list Authorization: browsers cannot send the token")
				}
				return "", nil
			},
		},
		corsOnError("on-401", http.StatusUnauthorized, "", func(env *Env) httpcall.Request {
			return request(env, env.Paths.Private, nil)
		}),
		corsOnError("on-403", http.StatusForbidden, "insufficient_scope", func(env *Env) httpcall.Request {
			return request(env, env.Paths.Scoped, bearer(env.NoScopeToken))
		}),
		{
			Name: "on-200", Why: "without Access-Control-Allow-Origin a browser app cannot read the response",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return withOrigin(env.Origin, request(env, env.Paths.Private, bearer(env.ScopedToken))), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
			Check: func(_ context.Context, env *Env, resp *httpcall.Response) (string, error) {
				return "", allowsOrigin(resp, env.Origin)
			},
		},
		{
			Name: "other-origin", Why: "reflecting any Origin lets every web site read the API's responses",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return withOrigin("https://attacker.example", request(env, env.Paths.Private, bearer(env.ScopedToken))), nil
			},
			Expect: Expect{Status: http.StatusOK, Also: []int{http.StatusForbidden}},
			Check: func(_ context.Context, _ *Env, resp *httpcall.Response) (string, error) {
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got == "https://attacker.example" {
					return "", errors.New("Access-Control-Allow-Origin reflects an origin that is not allowed")
				}
				return "", nil
			},
		},
	}
}

// corsOnError checks an error response carries CORS headers and exposes WWW-Authenticate to the browser app.
func corsOnError(name string, status int, code string, build func(env *Env) httpcall.Request) Case {
	return Case{
		Name: name, Why: fmt.Sprintf("without CORS headers on a %d a browser app sees a network error, not the status", status),
		Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
			if status == http.StatusForbidden && env.NoScopeToken == "" {
				return httpcall.Request{}, skipf("needs a token without the scope: --noscope-client-id and --noscope-client-secret")
			}
			req := build(env)
			req.Header.Set("Origin", env.Origin)
			return req, nil
		},
		Expect: Expect{Status: status, Error: code},
		Check: func(_ context.Context, env *Env, resp *httpcall.Response) (string, error) {
			if err := allowsOrigin(resp, env.Origin); err != nil {
				return "", err
			}
			if !listContains(resp.Header.Values("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				return "", errors.New("Access-Control-Expose-Headers does not list WWW-Authenticate: the app cannot read the challenge")
			}
			return "", nil
		},
	}
}

func allowsOrigin(resp *httpcall.Response, origin string) error {
	got := resp.Header.Get("Access-Control-Allow-Origin")
	if got != origin && got != "*" {
		return fmt.Errorf("Access-Control-Allow-Origin is %q, want %q", got, origin)
	}
	return nil
}

// listContains reports whether a comma-separated header list holds item, compared case-insensitively.
func listContains(values []string, item string) bool {
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), item) {
				return true
			}
		}
	}
	return false
}
