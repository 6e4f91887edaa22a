package auth

import (
	"context"
	"log/slog"
	"net/http"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/gin-gonic/gin"
)

// This file is the only one in the package that knows Gin. Data goes one way: Middleware puts an outcome record in
// the request context before go-jwt-middleware's CheckJWT, the error handler fills it from r.Context(), and the
// success handler only hands the request carrying the claims (under jwtmiddleware.ContextKey{}) back to Gin.

// outcomeKey is the request-context key of the per-request *outcome.
type outcomeKey struct{}

// outcome is what one request's authentication came to: the rejection (nil once passed) and who answered it. It
// is itself the request's context (the parent plus itself under outcomeKey), which saves an allocation per request.
type outcome struct {
	context.Context
	v   *Validator
	c   *gin.Context
	err error
}

// Value answers outcomeKey with the outcome itself and everything else from the parent context.
func (o *outcome) Value(key any) any {
	if key == (outcomeKey{}) {
		return o
	}
	return o.Context.Value(key)
}

func outcomeOf(ctx context.Context) *outcome {
	o, _ := ctx.Value(outcomeKey{}).(*outcome)
	return o
}

// Middleware authenticates requests with go-jwt-middleware v2 adapted to Gin: it extracts the bearer token,
// validates it, and either continues with the claims in the request context (see ClaimsFrom), or answers per
// RFC 6750 and aborts. OPTIONS requests pass unauthenticated so CORS preflights work.
func (v *Validator) Middleware() gin.HandlerFunc {
	mw := jwtmiddleware.New(
		func(ctx context.Context, token string) (any, error) { return v.Validate(ctx, token) },
		jwtmiddleware.WithErrorHandler(recordError),
		jwtmiddleware.WithTokenExtractor(extractToken),
		jwtmiddleware.WithValidateOnOptions(false),
	)
	check := mw.CheckJWT(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		outcomeOf(r.Context()).c.Request = r
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
	if o := outcomeOf(r.Context()); o != nil {
		o.err = err
	}
}

// reject counts the failure (the one place failures are counted) and writes the contract's answer.
func (o *outcome) reject(c *gin.Context, err error) {
	o.err = err
	a := answer(err)
	o.v.metrics.failure(a.reason)
	write(c, a)
}

// write sends an answer and aborts the chain.
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
		case o == nil || o.err != nil:
			// Misordered chain or no Middleware: fail closed with the no-token challenge.
			write(c, answer(jwtmiddleware.ErrJWTMissing))
		case !ok:
			if c.Request.Method == http.MethodOptions { // a preflight Middleware let through unauthenticated
				c.Next()
				return
			}
			write(c, answer(jwtmiddleware.ErrJWTMissing))
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
	ctx := c.Request.Context()
	o := outcomeOf(ctx)
	if o == nil {
		return nil
	}
	var sub, kid string
	var reason Reason
	if claims, ok := ClaimsFromContext(ctx); ok {
		sub, kid = truncate(claims.Subject), claims.KeyID()
	}
	if o.err != nil {
		reason = reasonOf(o.err)
		if ve := asValidationError(o.err); ve != nil {
			sub, kid = ve.Subject, ve.KID
		}
	}
	attrs := make([]slog.Attr, 0, 3)
	if sub != "" {
		attrs = append(attrs, slog.String("sub", sub))
	}
	if kid != "" {
		attrs = append(attrs, slog.String("kid", kid))
	}
	if reason != "" {
		attrs = append(attrs, slog.String("reason", string(reason)))
	}
	return attrs
}
