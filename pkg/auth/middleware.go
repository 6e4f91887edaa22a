package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/gin-gonic/gin"
)

// stateKey is the gin context key of the per-request auth state.
const stateKey = "tokencheck/auth"

// requestState carries one request through go-jwt-middleware: it is the ResponseWriter handed to CheckJWT, so the
// error handler and the success handler find the gin context, and it records what LogAttrs reports.
type requestState struct {
	gin.ResponseWriter
	c      *gin.Context
	v      *Validator
	passed bool
	claims *Claims
	reason Reason
	kid    string
	sub    string
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	Message          string `json:"message"`
}

// Middleware authenticates requests with go-jwt-middleware v2 adapted to Gin: it extracts the bearer token,
// validates it, and either stores the claims (see ClaimsFrom) and continues, or answers per RFC 6750 and aborts.
// OPTIONS requests pass unauthenticated so CORS preflights work.
func (v *Validator) Middleware() gin.HandlerFunc {
	mw := jwtmiddleware.New(
		func(ctx context.Context, token string) (any, error) { return v.Validate(ctx, token) },
		jwtmiddleware.WithErrorHandler(v.handleError),
		jwtmiddleware.WithTokenExtractor(extractToken),
		jwtmiddleware.WithValidateOnOptions(false),
	)
	next := mw.CheckJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := w.(*requestState)
		st.passed = true
		st.c.Request = r
		if claims, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*Claims); ok {
			st.claims = claims
			st.kid = claims.KeyID()
			st.sub = truncate(claims.Subject)
		}
		st.c.Next()
	}))
	return func(c *gin.Context) {
		st := &requestState{ResponseWriter: c.Writer, c: c, v: v}
		c.Set(stateKey, st)
		next.ServeHTTP(st, c.Request)
		if !st.passed {
			c.Abort()
		}
	}
}

// handleError replaces go-jwt-middleware's default handler (400/500) with the contract's answers.
func (v *Validator) handleError(w http.ResponseWriter, _ *http.Request, err error) {
	st, ok := w.(*requestState)
	if !ok {
		http.Error(w, "auth middleware misused", http.StatusInternalServerError)
		return
	}
	switch ve, isVE := errors.AsType[*ValidationError](err); {
	case errors.Is(err, jwtmiddleware.ErrJWTMissing):
		st.reject(ReasonNoToken, http.StatusUnauthorized, "")
	case errors.Is(err, errMultipleTokens):
		st.reject(ReasonMultipleTokens, http.StatusBadRequest, "invalid_request")
	case isVE:
		st.kid, st.sub = ve.KID, ve.Subject
		if ve.Reason == ReasonKeysUnavailable {
			st.reason = ve.Reason
			st.c.Header("Retry-After", retryAfter)
			st.c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody{
				Error: "temporarily_unavailable", ErrorDescription: ve.Reason.Description(), Message: ve.Reason.Message(),
			})
			return
		}
		// Validate already counted this failure.
		st.reason = ve.Reason
		st.write(http.StatusUnauthorized, "invalid_token", ve.Reason, "")
	default:
		st.reject(ReasonMalformed, http.StatusUnauthorized, "invalid_token")
	}
}

// reject counts a failure the validator did not see and answers it.
func (st *requestState) reject(r Reason, status int, code string) {
	st.reason = r
	st.v.metrics.failure(r)
	st.write(status, code, r, "")
}

// write sends the challenge and JSON body and aborts the chain.
func (st *requestState) write(status int, code string, r Reason, scope string) {
	desc := ""
	if code != "" {
		desc = r.Description()
	}
	st.c.Header("WWW-Authenticate", challenge("error", code, "error_description", desc, "scope", scope))
	st.c.AbortWithStatusJSON(status, errorBody{Error: code, ErrorDescription: desc, Message: r.Message()})
}

// RequireScope answers 403 insufficient_scope unless the token grants scope; place it after Middleware.
func RequireScope(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, _ := stateOf(c)
		if st == nil || st.claims == nil {
			if c.Request.Method == http.MethodOptions && st != nil && st.passed {
				c.Next()
				return
			}
			// Misordered chain or no Middleware: fail closed with the no-token challenge.
			c.Header("WWW-Authenticate", challenge())
			c.AbortWithStatusJSON(http.StatusUnauthorized, errorBody{Message: ReasonNoToken.Message()})
			return
		}
		if st.claims.HasScope(scope) {
			c.Next()
			return
		}
		st.reason = ReasonInsufficientScope
		st.v.metrics.failure(ReasonInsufficientScope)
		st.write(http.StatusForbidden, "insufficient_scope", ReasonInsufficientScope, scope)
	}
}

func stateOf(c *gin.Context) (*requestState, bool) {
	v, ok := c.Get(stateKey)
	if !ok {
		return nil, false
	}
	st, ok := v.(*requestState)
	return st, ok
}

// ClaimsFrom returns the verified claims Middleware stored for this request.
func ClaimsFrom(c *gin.Context) (*Claims, bool) {
	st, ok := stateOf(c)
	if !ok || st.claims == nil {
		return nil, false
	}
	return st.claims, true
}

// LogAttrs describes this request's authentication for the access log: sub, kid and failure reason, whichever
// are known. It never includes the token.
func LogAttrs(c *gin.Context) []slog.Attr {
	st, ok := stateOf(c)
	if !ok {
		return nil
	}
	attrs := make([]slog.Attr, 0, 3)
	if st.sub != "" {
		attrs = append(attrs, slog.String("sub", st.sub))
	}
	if st.kid != "" {
		attrs = append(attrs, slog.String("kid", st.kid))
	}
	if st.reason != "" {
		attrs = append(attrs, slog.String("reason", string(st.reason)))
	}
	return attrs
}
