package auth

import (
	"errors"
	"fmt"
	"testing"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// TestAnswer pins the contract's answers as a pure function of the error, whatever wraps it.
func TestAnswer(t *testing.T) {
	invalid := func(r Reason) string {
		return `Bearer realm="api", error="invalid_token", error_description="` + r.Description() + `"`
	}
	tests := []struct {
		name       string
		err        error
		status     int
		challenge  string
		retryAfter bool
		code       string
		reason     Reason
	}{
		{"no token", jwtmiddleware.ErrJWTMissing, 401, `Bearer realm="api"`, false, "", ReasonNoToken},
		{"two places", fmt.Errorf("error extracting token: %w", errMultipleTokens), 400,
			`Bearer realm="api", error="invalid_request", error_description="token sent in more than one place"`, false,
			"invalid_request", ReasonMultipleTokens},
		{"expired", &ValidationError{Reason: ReasonExpired}, 401, invalid(ReasonExpired), false, "invalid_token", ReasonExpired},
		{"wrapped like go-jwt-middleware", fmt.Errorf("jwt invalid: %w", &ValidationError{Reason: ReasonBadSignature}), 401,
			invalid(ReasonBadSignature), false, "invalid_token", ReasonBadSignature},
		{"keys unavailable", &ValidationError{Reason: ReasonKeysUnavailable, Err: ErrKeysUnavailable}, 503, "", true,
			"temporarily_unavailable", ReasonKeysUnavailable},
		{"scope", &ScopeError{Scope: "read:messages"}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="token lacks the required scope", scope="read:messages"`,
			false, "insufficient_scope", ReasonInsufficientScope},
		{"anything else", errors.New("boom"), 401, invalid(ReasonMalformed), false, "invalid_token", ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := answer(tt.err)
			if a.status != tt.status || a.challenge != tt.challenge || a.retryAfter != tt.retryAfter ||
				a.body.Error != tt.code || a.reason != tt.reason {
				t.Fatalf("answer = %+v, want %d %q retry=%v %q %q", a, tt.status, tt.challenge, tt.retryAfter, tt.code, tt.reason)
			}
			if a.body.Message != tt.reason.Message() || a.body.Message == "" {
				t.Errorf("message %q", a.body.Message)
			}
		})
	}
}
