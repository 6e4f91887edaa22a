package conformance

import (
	"context"
	"net/http"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// methodsCases send the private route requests without a token in methods other than GET: access control that is
// written per method (a middleware on GET only, a check skipped for methods it does not list, a method override
// applied after the check) lets them reach the handler. This is HTTP verb tampering (OWASP WSTG-CONF-06).
func methodsCases() []Case {
	// 401 is the answer a GET without a token gets, but an API need not serve these methods at all: then 404
	// (Gin's default), 405 (RFC 9110 §15.5.6), 501 (§15.6.2, a method it does not know), 400 (Node's parser, for
	// one), 411 or 415 for the body-less POST refuse as surely. Any refusal passes; a 2xx means the handler ran.
	refused := Expect{Status: http.StatusUnauthorized, AnyRefusal: true}
	noToken := func(method string, header http.Header) func(context.Context, *Env) (httpcall.Request, error) {
		return func(_ context.Context, env *Env) (httpcall.Request, error) {
			req := request(env, env.Paths.Private, header)
			req.Method = method
			return req, nil
		}
	}
	return []Case{
		{
			// RFC 9110 §9.3.2: HEAD is GET without the body, so a correct API answers it as it answers the GET.
			Name: "head-no-token", Severity: High,
			Why: "the private route runs for HEAD without a token: access control on GET only lets anyone " +
				"trigger the handler and read its headers (HTTP verb tampering)",
			Build:  noToken(http.MethodHead, nil),
			Expect: refused,
		},
		{
			// An extension method is valid syntax (RFC 9110 §9.1); whoever does not serve it answers 405 or 501.
			Name: "unknown-method-no-token", Severity: High,
			Why: "the private route runs without a token for a method the access control does not list: anyone " +
				"reaches the handler (HTTP verb tampering)",
			Build:  noToken("TOKENCHECK", nil),
			Expect: refused,
		},
		{
			// The three override headers frameworks honour; a correct API checks the token whatever the method.
			Name: "method-override-no-token", Severity: High,
			Why: "a POST without a token, overridden to GET after the access control ran, reaches the private " +
				"handler: anyone gets what a token was needed for",
			Build: noToken(http.MethodPost, http.Header{
				"X-Http-Method-Override": {http.MethodGet},
				"X-Http-Method":          {http.MethodGet},
				"X-Method-Override":      {http.MethodGet},
			}),
			Expect: refused,
		},
	}
}
