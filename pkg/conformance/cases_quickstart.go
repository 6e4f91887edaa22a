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
			Name: "public", Why: "the public route must answer without a token, or every anonymous client breaks",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Public, nil), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "no-header", Why: "a private route served without any token is open to everyone",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, nil), nil
			},
			Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			// Go's HTTP client trims the trailing space, so the API sees "Bearer": the scheme without a token.
			Name: "bearer-no-token", Why: "an empty bearer token must never authenticate",
			Build: header("Bearer "), Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			Name: "blank", Why: "a blank Authorization header must never authenticate",
			Build: header(" "), Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			Name: "basic-scheme", Why: "a non-Bearer scheme carries no bearer token and must not authenticate",
			Build:  header("Basic " + base64.StdEncoding.EncodeToString([]byte("user:password"))),
			Expect: Expect{Status: http.StatusUnauthorized},
		},
		{
			Name: "invalid-token", Why: "a token that is not a JWT must be rejected as invalid_token",
			Build: header("Bearer invalidToken"), Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token"},
		},
		{
			Name: "invalid-token-two-words", Why: "a malformed credential must be rejected, not parsed leniently",
			Build:  header("Bearer invalidToken abc"),
			Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token"},
		},
		{
			Name: "bad-signature", Why: "an API that does not verify signatures accepts any token anyone writes",
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
			Name: "private-valid", Why: "a valid token must be accepted, or the API is unusable",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, bearer(env.ScopedToken)), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "scoped-no-scope", Why: "a token without the required scope must not reach the scoped route",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				if env.NoScopeToken == "" {
					return httpcall.Request{}, skipf("needs a token without the scope: --noscope-client-id and --noscope-client-secret")
				}
				return request(env, env.Paths.Scoped, bearer(env.NoScopeToken)), nil
			},
			Expect: Expect{Status: http.StatusForbidden, Error: "insufficient_scope"},
		},
		{
			Name: "scoped-wrong-scope", NeedsKey: true,
			Why: "a token granted another scope must not reach the scoped route",
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				tok, err := env.mintExact(ctx, nil, map[string]any{"scope": otherScope(env.Scope), "permissions": nil})
				return request(env, env.Paths.Scoped, bearer(tok)), err
			},
			Expect: Expect{Status: http.StatusForbidden, Error: "insufficient_scope"},
		},
		{
			Name: "scoped-valid", Why: "a token holding the scope must be accepted on the scoped route",
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
