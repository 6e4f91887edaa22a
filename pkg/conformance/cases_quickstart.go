package conformance

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// quickstartCases is the matrix of Auth0's api-quickstarts-tests: public, private and scoped routes.
func quickstartCases() []Case {
	header := func(value string) func(context.Context, *Env) (httpcall.Request, error) {
		return func(_ context.Context, env *Env) (httpcall.Request, error) {
			return request(env, env.Paths.Private, http.Header{"Authorization": {value}}), nil
		}
	}
	return []Case{
		{
			Name: "public", Severity: Medium, Why: "the public route does not answer without a token: every anonymous client breaks",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Public, nil), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "no-header", Severity: Critical, Why: "a private route served without any token is open to everyone",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, nil), nil
			},
			Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			// Go's HTTP client trims the trailing space, so the API sees "Bearer": the scheme without a token.
			Name: "bearer-no-token", Severity: Critical, Why: "an API that accepts an empty bearer token lets anyone in",
			Build: header("Bearer "), Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			Name: "blank", Severity: Critical, Why: "an API that accepts a blank Authorization header lets anyone in",
			Build: header(" "), Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			Name: "basic-scheme", Severity: Critical, Why: "an API that takes any Authorization scheme as a login lets anyone in",
			Build:  header("Basic " + base64.StdEncoding.EncodeToString([]byte("user:password"))),
			Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			Name: "invalid-token", Severity: Critical, Why: "an API that accepts a string that is not even a JWT lets anyone in",
			Build: header("Bearer invalidToken"), Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token"},
		},
		{
			Name: "invalid-token-two-words", Severity: Critical, Why: "an API that parses a malformed credential leniently accepts what it should refuse",
			Build: header("Bearer invalidToken abc"),
			// RFC 6750 §3.1 lets a malformed request be a 400 invalid_request; 401 invalid_token is Auth0's answer.
			Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusBadRequest}},
		},
		{
			Name: "bad-signature", Severity: Critical, Why: "an API that does not verify signatures accepts any token anyone writes",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				h, c, s := parts(env.ScopedToken)
				sig, err := base64.RawURLEncoding.DecodeString(s)
				if err != nil || len(sig) == 0 {
					return httpcall.Request{}, skipf("the tenant's token has no readable signature")
				}
				sig[len(sig)/2] ^= 0x01
				return request(env, env.Paths.Private, bearer(h+"."+c+"."+b64(sig))), nil
			},
			Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token"},
		},
		{
			Name: "private-valid", Severity: Medium, Why: "the API refuses a valid token: every legitimate client is locked out",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, bearer(env.ScopedToken)), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "scoped-no-scope", Severity: High, Why: "a token without the required scope reaches the scoped route: every client of the tenant gets the permission",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				if env.NoScopeToken == "" {
					return httpcall.Request{}, env.Names.noScopeSkip()
				}
				return request(env, env.Paths.Scoped, bearer(env.NoScopeToken)), nil
			},
			Expect: Expect{Status: http.StatusForbidden, Error: "insufficient_scope"},
		},
		{
			Name: "scoped-wrong-scope", NeedsKey: true, Severity: High,
			Why: "a token granted another scope reaches the scoped route: one permission grants them all",
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				tok, err := env.mintExact(ctx, nil, map[string]any{"scope": otherScope(env.Scope), "permissions": nil})
				return request(env, env.Paths.Scoped, bearer(tok)), err
			},
			Expect: Expect{Status: http.StatusForbidden, Error: "insufficient_scope"},
		},
		{
			Name: "scoped-valid", Severity: Medium, Why: "the API refuses a token that holds the scope: legitimate clients are locked out of the scoped route",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Scoped, bearer(env.ScopedToken)), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
	}
}

// otherScope is a scope that is not the required one, for the wrong-scope case.
func otherScope(required string) string {
	if required == "write:messages" {
		return "read:messages"
	}
	return "write:messages"
}
