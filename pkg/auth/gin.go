package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/gin-gonic/gin"
)

// This file is the only one in the package that knows Gin. Data goes one way: Middleware puts an outcome record in
// the request context before go-jwt-middleware's CheckJWT, the validate function stores the verified claims in it,
// and the error handler records any rejection in it from r.Context().
//
// The outcome is also where the claims live afterwards: it answers jwtmiddleware.ContextKey{}, the key
// go-jwt-middleware stores claims under, so ClaimsFromContext and plain net/http code find them where they always
// did. This spares a copy of every authenticated request: on success go-jwt-middleware's CheckJWT calls
// r.Clone (a deep copy of the URL and every header) only to add that key to the context, so the validate function
// reports a verified token to it as errAccepted, which the error handler recognises and does not record.
// Extraction, the OPTIONS exemption and the missing-token check are still go-jwt-middleware's.

// outcomeKey is the request-context key of the per-request *outcome.
type outcomeKey struct{}

// errAccepted is how the validate function tells go-jwt-middleware's CheckJWT that a token passed without letting
// it clone the request; the claims are already in the outcome. It never leaves this file.
var errAccepted = errors.New("auth: token accepted (internal signal, not an error)")

// outcome is what one request's authentication came to: the verified claims, the rejection (nil once passed) and
// who answered it. It is itself the request's context (the parent plus itself under outcomeKey and the claims under
// jwtmiddleware.ContextKey{}), which saves an allocation per request.
type outcome struct {
	context.Context
	v      *Validator
	c      *gin.Context
	claims *Claims
	err    error
	scheme Scheme // how the token came, set by the extractor
}

// Value answers outcomeKey with the outcome itself, jwtmiddleware.ContextKey{} with the verified claims (once there
// are any) and everything else from the parent context.
func (o *outcome) Value(key any) any {
	switch key {
	case outcomeKey{}:
		return o
	case jwtmiddleware.ContextKey{}:
		if o.claims != nil {
			return o.claims
		}
	}
	return o.Context.Value(key)
}

func outcomeOf(ctx context.Context) *outcome {
	if o, ok := ctx.(*outcome); ok {
		return o
	}
	o, _ := ctx.Value(outcomeKey{}).(*outcome)
	return o
}

// Middleware authenticates requests with go-jwt-middleware v2 adapted to Gin: it extracts the token (Bearer, or
// DPoP with its proof unless DPoP is disabled), validates it with ValidateCredential, and either continues with
// the claims in the request context (see ClaimsFrom), or answers per RFC 6750 / RFC 9449 and aborts. OPTIONS
// requests pass unauthenticated so CORS preflights work.
func (v *Validator) Middleware() gin.HandlerFunc {
	dpopOn := v.dpop != nil
	mw := jwtmiddleware.New(
		func(ctx context.Context, token string) (any, error) {
			o := outcomeOf(ctx)
			if o == nil {
				return v.Validate(ctx, token)
			}
			cr := Credential{Scheme: o.scheme, Token: token}
			if o.scheme == SchemeDPoP {
				r := o.c.Request
				cr.Proofs, cr.Method, cr.URL = r.Header.Values("DPoP"), r.Method, v.RequestURL(r)
			}
			claims, err := v.ValidateCredential(ctx, cr)
			if err != nil {
				return nil, err
			}
			o.claims = claims
			return nil, errAccepted
		},
		jwtmiddleware.WithErrorHandler(recordError),
		// Both schemes (DPoP unless disabled); the scheme goes to the outcome, the token to validation.
		jwtmiddleware.WithTokenExtractor(func(r *http.Request) (string, error) {
			token, scheme, err := extractCredential(r, dpopOn)
			if o := outcomeOf(r.Context()); o != nil {
				o.scheme = scheme
			}
			return token, err
		}),
		jwtmiddleware.WithValidateOnOptions(false),
	)
	// Reached for requests CheckJWT lets through unvalidated (OPTIONS); r is then the request it was given.
	check := mw.CheckJWT(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if o := outcomeOf(r.Context()); o != nil {
			o.c.Request = r
		}
	}))
	return func(c *gin.Context) {
		o := &outcome{Context: c.Request.Context(), v: v, c: c}
		c.Request = c.Request.WithContext(o)
		check.ServeHTTP(c.Writer, c.Request)
		if o.err != nil {
			o.reject(c, o.err)
			return
		}
		c.Next()
	}
}

// recordError is go-jwt-middleware's error handler: it only records the failure; Middleware answers it.
func recordError(_ http.ResponseWriter, r *http.Request, err error) {
	if o := outcomeOf(r.Context()); o != nil && !errors.Is(err, errAccepted) {
		o.err = err
	}
}

// reject counts the failure (the one place failures are counted) and writes the contract's answer.
func (o *outcome) reject(c *gin.Context, err error) {
	o.err = err
	a := answer(err)
	o.v.metrics.failure(a.reason)
	o.write(c, a)
}

// write sends an answer with the challenges of o's validator (both schemes, resource_metadata) and aborts.
func (o *outcome) write(c *gin.Context, a response) {
	h := c.Writer.Header()
	for _, ch := range o.v.challenges(a, o.scheme, o.v.BaseURL(c.Request)) {
		h.Add("WWW-Authenticate", ch)
	}
	if a.retryAfter {
		c.Header("Retry-After", RetryAfter)
	}
	c.AbortWithStatusJSON(a.status, a.body)
}

// write sends an answer and aborts the chain, for a request no Middleware saw (a misordered chain).
func write(c *gin.Context, a response) {
	if a.challenge != "" {
		c.Header("WWW-Authenticate", a.challenge)
	}
	if a.retryAfter {
		c.Header("Retry-After", RetryAfter)
	}
	c.AbortWithStatusJSON(a.status, a.body)
}

// RequireScope answers 403 insufficient_scope unless the token grants scope; place it after Middleware.
func RequireScope(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o := outcomeOf(c.Request.Context())
		claims, ok := ClaimsFromContext(c.Request.Context())
		switch {
		case o == nil:
			// No Middleware: fail closed with the no-token challenge.
			write(c, answer(jwtmiddleware.ErrJWTMissing))
		case o.err != nil:
			// Misordered chain: fail closed with the no-token challenge.
			o.write(c, answer(jwtmiddleware.ErrJWTMissing))
		case !ok:
			if c.Request.Method == http.MethodOptions { // a preflight Middleware let through unauthenticated
				c.Next()
				return
			}
			o.write(c, answer(jwtmiddleware.ErrJWTMissing))
		case claims.HasScope(scope):
			c.Next()
		default:
			o.reject(c, &ScopeError{Scope: scope})
		}
	}
}

// ClaimsFromContext returns the verified claims go-jwt-middleware stored in ctx: the one place claims live.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(jwtmiddleware.ContextKey{}).(*Claims)
	return c, ok && c != nil
}

// ClaimsFrom returns the verified claims Middleware stored for this request.
func ClaimsFrom(c *gin.Context) (*Claims, bool) { return ClaimsFromContext(c.Request.Context()) }

// LogAttrs describes this request's authentication for the access log: sub, kid and failure reason, whichever
// are known. It never includes the token.
func LogAttrs(c *gin.Context) []slog.Attr {
	if outcomeOf(c.Request.Context()) == nil {
		return nil
	}
	return AppendLogAttrs(make([]slog.Attr, 0, 3), c)
}

// AppendLogAttrs appends LogAttrs(c) to dst and returns the extended slice, so an access log can collect every
// attribute of a line in one buffer of its own.
func AppendLogAttrs(dst []slog.Attr, c *gin.Context) []slog.Attr {
	ctx := c.Request.Context()
	o := outcomeOf(ctx)
	if o == nil {
		return dst
	}
	var sub, kid string
	var reason Reason
	if claims, ok := ClaimsFromContext(ctx); ok {
		sub, kid = truncate(claims.Subject), claims.KeyID()
	}
	var ve *ValidationError
	if o.err != nil {
		reason = reasonOf(o.err)
		if ve = asValidationError(o.err); ve != nil {
			sub, kid = ve.Subject, ve.KID
		}
	}
	if sub != "" {
		dst = append(dst, slog.String("sub", sub))
	}
	if kid != "" {
		dst = append(dst, slog.String("kid", kid))
	}
	if reason != "" {
		dst = append(dst, slog.String("reason", string(reason)))
	}
	if ve != nil {
		// The classic setup mistake (an issuer without its trailing slash, the wrong API identifier) is plain
		// only with both values side by side; claims are never secret, the token is never logged.
		switch ve.Reason {
		case ReasonBadIssuer:
			dst = append(dst, slog.String("token_iss", ve.Got), slog.String("expected_iss", strings.Join(o.v.cfg.Issuers, ",")))
		case ReasonBadAudience:
			dst = append(dst, slog.String("token_aud", ve.Got),
				slog.String("expected_aud", strings.Join(o.v.cfg.Audiences, ",")))
		}
	}
	return dst
}
