package auth

import (
	"errors"
	"net/http"
	"strconv"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	Message          string `json:"message"`
}

// response is what the contract answers for one rejected request: status, challenge (empty: no WWW-Authenticate),
// whether Retry-After is sent, the JSON body, and the reason for logs and metrics.
type response struct {
	status     int
	challenge  string
	retryAfter bool
	body       errorBody
	reason     Reason
	// code, desc and scope are the challenge's error attributes, for the DPoP challenge (see challenges).
	code, desc, scope string
}

// RetryAfter is the Retry-After header value of every 503 this module sends while token validation cannot work.
var RetryAfter = strconv.Itoa(RetryAfterSeconds)

// ScopeError says a verified token lacks the scope a route requires; it is answered 403 insufficient_scope.
type ScopeError struct {
	// Scope is the scope the route requires; it is echoed in the challenge so clients know what to request.
	Scope string
}

// Error names the missing scope.
func (e *ScopeError) Error() string {
	return "auth: token lacks the required scope " + strconv.Quote(e.Scope)
}

// reasonOf maps any error of the request path onto its stable reason: the extractor's, the validator's or a scope
// check's. Unknown errors are malformed tokens, never a 500: the client sent something we could not use.
func reasonOf(err error) Reason {
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return ve.Reason
	}
	var se *ScopeError
	switch {
	case errors.Is(err, jwtmiddleware.ErrJWTMissing):
		return ReasonNoToken
	case errors.Is(err, errMultipleTokens):
		return ReasonMultipleTokens
	case errors.As(err, &se):
		return ReasonInsufficientScope
	}
	return ReasonMalformed
}

// answer is the contract's answer to a rejected request (RFC 6750 §3): a pure function of the error, so every
// adapter answers the same way and tests can check it without HTTP.
func answer(err error) response {
	r := reasonOf(err)
	switch r {
	case ReasonKeysUnavailable:
		return response{status: http.StatusServiceUnavailable, retryAfter: true, reason: r, body: errorBody{
			Error: "temporarily_unavailable", ErrorDescription: r.Description(), Message: r.Message(),
		}}
	case ReasonNoToken:
		return response{status: http.StatusUnauthorized, challenge: challenge(), reason: r, body: errorBody{Message: r.Message()}}
	case ReasonMultipleTokens:
		return bearerError(http.StatusBadRequest, "invalid_request", r, "")
	case ReasonDPoPProof:
		a := bearerError(http.StatusUnauthorized, "invalid_dpop_proof", r, "")
		a.desc = dpopDescription(err)
		a.body.ErrorDescription = a.desc
		a.challenge = challenge("error", a.code, "error_description", a.desc)
		return a
	case ReasonInsufficientScope:
		scope := ""
		var se *ScopeError
		if errors.As(err, &se) {
			scope = se.Scope
		}
		return bearerError(http.StatusForbidden, "insufficient_scope", r, scope)
	}
	return bearerError(http.StatusUnauthorized, "invalid_token", r, "")
}

// bearerError is an answer with an RFC 6750 error code in both the challenge and the body.
func bearerError(status int, code string, r Reason, scope string) response {
	desc := r.Description()
	return response{
		status:    status,
		challenge: challenge("error", code, "error_description", desc, "scope", scope),
		reason:    r,
		body:      errorBody{Error: code, ErrorDescription: desc, Message: r.Message()},
		code:      code, desc: desc, scope: scope,
	}
}
