package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// Scheme is the Authorization scheme a token came with.
type Scheme int

// Schemes the middleware accepts.
const (
	// SchemeBearer is RFC 6750's Bearer.
	SchemeBearer Scheme = iota
	// SchemeDPoP is RFC 9449's DPoP: the token is bound to a key and each request carries a proof.
	SchemeDPoP
)

// Credential is what one request presented, as ValidateCredential needs it; adapters fill it from the request.
type Credential struct {
	// Scheme is how the token was sent.
	Scheme Scheme
	// Token is the access token without the scheme.
	Token string
	// Proofs are the request's DPoP header values (exactly one is valid); only read for SchemeDPoP.
	Proofs []string
	// Method is the request method (a proof's htm); only read for SchemeDPoP.
	Method string
	// URL is the request URL as the client addressed it (a proof's htu), see RequestURL; only for SchemeDPoP.
	URL string
}

// errProofHeaders is the cause when a DPoP request has no proof or more than one (RFC 9449 §4.3 step 1).
var errProofHeaders = &dpop.Error{Kind: dpop.ErrMalformed, Reason: "exactly one DPoP header is required"}

// ValidateCredential validates a token with its scheme: a Bearer token must not be bound (cnf) and is refused
// when DPoP is required; a DPoP token must be bound to the key of a proof that is valid for this request. The
// verified-token cache only ever spares the token's own validation: the proof is checked on every call.
func (v *Validator) ValidateCredential(ctx context.Context, cr Credential) (*Claims, error) {
	if cr.Scheme == SchemeDPoP {
		return v.validateDPoP(ctx, cr)
	}
	if v.cfg.DPoP.Mode == DPoPRequired {
		return nil, &ValidationError{Reason: ReasonDPoPRequired}
	}
	claims, err := v.validateToken(ctx, cr.Token)
	if err != nil {
		return nil, err
	}
	if claims.Bound() {
		// RFC 9449 §7.2: a bound token used as a bearer token is exactly what binding exists to stop.
		return nil, claimsError(ReasonBoundAsBearer, claims, nil)
	}
	return claims, nil
}

func (v *Validator) validateDPoP(ctx context.Context, cr Credential) (*Claims, error) {
	if v.dpop == nil {
		return nil, jwtmiddleware.ErrJWTMissing // disabled: the scheme is unknown, so no credentials were sent
	}
	if len(cr.Proofs) != 1 || strings.TrimSpace(cr.Proofs[0]) == "" {
		return nil, &ValidationError{Reason: ReasonDPoPProof, Err: errProofHeaders}
	}
	claims, err := v.validateToken(ctx, cr.Token)
	if err != nil {
		return nil, err
	}
	if claims.Confirmation == nil || claims.Confirmation.JKT == "" {
		return nil, claimsError(ReasonNotBound, claims, nil)
	}
	proof, err := v.dpop.Verify(strings.TrimSpace(cr.Proofs[0]), cr.Method, cr.URL, cr.Token)
	if err != nil {
		return nil, claimsError(ReasonDPoPProof, claims, err)
	}
	if subtle.ConstantTimeCompare([]byte(proof.JKT), []byte(claims.Confirmation.JKT)) != 1 {
		return nil, claimsError(ReasonDPoPBinding, claims, nil)
	}
	return claims, nil
}

// claimsError is a rejection of a token whose signature and claims were fine, for logs with its sub and kid.
func claimsError(r Reason, c *Claims, err error) *ValidationError {
	return &ValidationError{Reason: r, KID: c.KeyID(), Subject: truncate(c.Subject), Err: err}
}

// dpopDescription is the error_description of a proof failure: the proof's own reason (fixed wording from
// pkg/dpop, never attacker text) when there is one.
func dpopDescription(err error) string {
	if de, ok := errors.AsType[*dpop.Error](err); ok && de.Reason != "" {
		return "DPoP proof: " + de.Reason
	}
	return ReasonDPoPProof.Description()
}

// DPoPMode is the configured DPoP mode.
func (v *Validator) DPoPMode() DPoPMode { return v.cfg.DPoP.Mode }

// DPoPAlgs are the accepted proof algorithms, nil when DPoP is disabled (for resource metadata).
func (v *Validator) DPoPAlgs() []string {
	if v.dpop == nil {
		return nil
	}
	return v.dpop.Algs()
}
