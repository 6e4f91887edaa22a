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
// token, and CORS headers on errors so the app can read the status and the challenge. They are judged by the Fetch
// standard under every profile, and only on their CORS headers: a challenge problem is another case's finding.
func corsCases() []Case {
	withOrigin := func(origin string, req httpcall.Request) httpcall.Request {
		req.Header.Set("Origin", origin)
		return req
	}
	return []Case{
		{
			Name: "preflight", Severity: Medium,
			Why: "a browser sends preflights without a token; refusing them breaks every web client",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				if env.noCORS != "" {
					return httpcall.Request{}, skipf("%s", env.noCORS)
				}
				req := preflight(env)
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
			Name: "on-200", Severity: Medium,
			Why: "without Access-Control-Allow-Origin a browser app cannot read the response",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				if env.noCORS != "" {
					return httpcall.Request{}, skipf("%s", env.noCORS)
				}
				return withOrigin(env.Origin, request(env, env.Paths.Private, bearer(env.ScopedToken))), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
			Check: func(_ context.Context, env *Env, resp *httpcall.Response) (string, error) {
				return "", allowsOrigin(resp, env.Origin)
			},
		},
		// A CORS layer may refuse a foreign origin outright (gin-contrib/cors answers a bare 403).
		foreignOrigin("other-origin", "the API lets any web site read its answers with the user's credentials "+
			"(origin reflection with Access-Control-Allow-Credentials)", func(*Env) string { return attackerOrigin }),
		// Origins an allow-list gets wrong when it parses the Origin header as a string (PortSwigger's "errors
		// parsing Origin headers"): the allowed origin with a host appended, an attacker's host ending in the
		// allowed one, and null, which sandboxed frames and file: pages send (Fetch §3.2.5).
		foreignOrigin("origin-prefix-match", allowListWhy("by prefix (the allowed origin + \".attacker.example\")"),
			func(env *Env) string { return env.Origin + ".attacker.example" }),
		foreignOrigin("origin-suffix-match", allowListWhy("by suffix (an attacker's host ending in the allowed host)"),
			func(env *Env) string {
				scheme, host, _ := strings.Cut(env.Origin, "://")
				return scheme + "://attacker" + host
			}),
		foreignOrigin("null-origin", allowListWhy("that takes null: any sandboxed iframe sends it"),
			func(*Env) string { return "null" }),
	}
}

// allowListWhy is why an allow-list that matches origins how matters.
func allowListWhy(how string) string {
	return "the API's CORS allow-list matches origins " + how + " and allows credentials: that site reads the " +
		"answers with the user's credentials"
}

// foreignOrigin is a case sending the private route a valid token from a foreign origin, judged by reflectionOf.
func foreignOrigin(name, why string, origin func(env *Env) string) Case {
	return Case{
		Name: name, Severity: Medium, Why: why,
		Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
			req := request(env, env.Paths.Private, bearer(env.ScopedToken))
			req.Header.Set("Origin", origin(env))
			return req, nil
		},
		Expect: Expect{Status: http.StatusOK, Also: []int{http.StatusForbidden}},
		Check:  reflectionOf(origin),
	}
}

// preflight is the CORS preflight a browser app sends before it calls the private route with a token.
func preflight(env *Env) httpcall.Request {
	req := request(env, env.Paths.Private, http.Header{
		"Origin": {env.Origin}, "Access-Control-Request-Method": {http.MethodGet},
		"Access-Control-Request-Headers": {"authorization"},
	})
	req.Method = http.MethodOptions
	return req
}

// probeCORS sends the preflight and a GET with a valid token from Origin: when neither answer carries any
// Access-Control-Allow-Origin, the API serves no browser app from that origin, and probeCORS returns the reason the
// CORS support cases give for skipping. A transport error says nothing, so the cases run and report it.
func (e *Env) probeCORS(ctx context.Context) string {
	get := request(e, e.Paths.Private, bearer(e.ScopedToken))
	get.Header.Set("Origin", e.Origin)
	for _, req := range []httpcall.Request{preflight(e), get} {
		resp, err := e.do(ctx, req, nil)
		if err != nil || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			return ""
		}
	}
	return e.Names.noCORS(e.Origin)
}

// attackerOrigin is the foreign origin of the reflection case.
const attackerOrigin = "https://attacker.example"

// reflectionOf judges the answer to a request from the foreign origin sent(env), failing only what the Fetch
// standard makes dangerous: an answer that names that origin (or "null") and allows credentials, so the browser
// hands it to the foreign page with cookies or HTTP auth. "*" never works with credentials, and a bearer token is
// never sent by the browser on its own, so without Allow-Credentials an echoed origin only reads what the page
// could fetch itself.
func reflectionOf(sent func(env *Env) string) func(context.Context, *Env, *httpcall.Response) (string, error) {
	return func(_ context.Context, env *Env, resp *httpcall.Response) (string, error) {
		origin := sent(env)
		acao := resp.Header.Get("Access-Control-Allow-Origin")
		creds := strings.EqualFold(strings.TrimSpace(resp.Header.Get("Access-Control-Allow-Credentials")), "true")
		switch {
		case (acao == origin || acao == "null") && creds:
			return "", fmt.Errorf("Access-Control-Allow-Origin %q with Access-Control-Allow-Credentials: true for "+
				"Origin %q: that site reads the answers", acao, origin)
		case acao == origin && origin == attackerOrigin:
			return "reflects any origin, without credentials: allowed by Fetch, as bearer tokens are never sent by the browser itself", nil
		case acao == origin:
			return fmt.Sprintf("allows Origin %q, without credentials: allowed by Fetch for a bearer-token API", origin), nil
		case acao == "*":
			return "Access-Control-Allow-Origin *: allowed by Fetch for a bearer-token API (never with credentials)", nil
		}
		return "", nil
	}
}

// corsOnError checks an error response carries CORS headers and exposes WWW-Authenticate to the browser app.
func corsOnError(name string, status int, code string, build func(env *Env) httpcall.Request) Case {
	return Case{
		Name: name, Severity: Medium,
		Why: fmt.Sprintf("without CORS headers on a %d a browser app sees a network error, not the status", status),
		Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
			if env.noCORS != "" {
				return httpcall.Request{}, skipf("%s", env.noCORS)
			}
			if status == http.StatusForbidden && env.NoScopeToken == "" {
				return httpcall.Request{}, env.Names.noScopeSkip()
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
			exposed := resp.Header.Values("Access-Control-Expose-Headers")
			if !listContains(exposed, "WWW-Authenticate") && !listContains(exposed, "*") {
				return "", findingf(Low, "the app cannot read why it was refused or how to get a token",
					"Access-Control-Expose-Headers does not list WWW-Authenticate: the app cannot read the challenge")
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
