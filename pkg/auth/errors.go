package auth

import (
	"errors"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Reason is a stable, machine-readable cause of a rejected request, used in logs and metrics labels.
type Reason string

// Reasons a token or request is rejected. They never change meaning, so dashboards and alerts can rely on them.
const (
	ReasonMalformed         Reason = "malformed"
	ReasonBadSignature      Reason = "bad_signature"
	ReasonUnknownKID        Reason = "unknown_kid"
	ReasonBadKey            Reason = "bad_key"
	ReasonBadAlg            Reason = "bad_alg"
	ReasonBadIssuer         Reason = "bad_issuer"
	ReasonBadAudience       Reason = "bad_audience"
	ReasonExpired           Reason = "expired"
	ReasonNotYetValid       Reason = "not_yet_valid"
	ReasonIssuedInFuture    Reason = "issued_in_future"
	ReasonMissingExp        Reason = "missing_exp"
	ReasonBadTyp            Reason = "bad_typ"
	ReasonCrit              Reason = "crit"
	ReasonKeysUnavailable   Reason = "keys_unavailable"
	ReasonNoToken           Reason = "no_token"
	ReasonMultipleTokens    Reason = "multiple_tokens"
	ReasonInsufficientScope Reason = "insufficient_scope"
	// ReasonDPoPProof: a DPoP request's proof is missing, repeated or invalid (invalid_dpop_proof).
	ReasonDPoPProof Reason = "dpop_proof"
	// ReasonDPoPBinding: the proof's key is not the key the token is bound to (cnf.jkt).
	ReasonDPoPBinding Reason = "dpop_binding"
	// ReasonNotBound: a token sent with the DPoP scheme has no cnf.jkt.
	ReasonNotBound Reason = "dpop_not_bound"
	// ReasonBoundAsBearer: a bound token (cnf) was sent as a Bearer token.
	ReasonBoundAsBearer Reason = "bound_as_bearer"
	// ReasonDPoPRequired: a Bearer token was sent to an API that accepts only DPoP.
	ReasonDPoPRequired Reason = "dpop_required"
)

// reasonText holds the short error_description (RFC 6750) and the sentence for humans of each reason.
var reasonText = map[Reason]struct{ desc, msg string }{
	ReasonMalformed:         {"token is malformed", "The access token is not a well-formed JWT; send the access token exactly as the issuer returned it."},
	ReasonBadSignature:      {"token signature is invalid", "The access token's signature does not verify; get a new token from the configured issuer."},
	ReasonUnknownKID:        {"token is signed with an unknown key", "The access token's kid is not in the issuer's key set; get a new token from the configured issuer."},
	ReasonBadKey:            {"token key is not an RS256 signing key", "The key named by the token's kid cannot verify RS256 signatures; check the issuer's key set."},
	ReasonBadAlg:            {"token algorithm is not allowed", "Only RS256-signed access tokens are accepted; configure the API in the issuer to sign with RS256."},
	ReasonBadIssuer:         {"token issuer is not accepted", "The access token was issued by a different issuer; get a token from the issuer this API trusts."},
	ReasonBadAudience:       {"token audience is not accepted", "The access token is for a different API; request a token with this API's audience."},
	ReasonExpired:           {"token is expired", "The access token has expired; get a new token and retry."},
	ReasonNotYetValid:       {"token is not valid yet", "The access token is not valid yet (nbf); check the clocks of the issuer and this server."},
	ReasonIssuedInFuture:    {"token is issued in the future", "The access token's iat is in the future; check the clocks of the issuer and this server."},
	ReasonMissingExp:        {"token has no expiry", "The access token has no exp claim; only expiring access tokens are accepted."},
	ReasonBadTyp:            {"token type is not accepted", "The token's typ header must be JWT or at+jwt; send an access token, not another kind of token."},
	ReasonCrit:              {"token has unsupported critical headers", "The token declares critical header parameters (crit) this API does not understand."},
	ReasonKeysUnavailable:   {"signing keys are not available yet", "The API has not loaded the issuer's signing keys yet; retry shortly."},
	ReasonNoToken:           {"", "Requires authentication: send an access token in the Authorization header as \"Bearer\" followed by the token."},
	ReasonMultipleTokens:    {"token sent in more than one place", "Send the access token once, in the Authorization header only."},
	ReasonInsufficientScope: {"token lacks the required scope", "The access token does not grant the scope this endpoint requires; request a token with that scope."},
	ReasonDPoPProof:         {"DPoP proof is invalid", "Send exactly one DPoP header with a fresh proof for this method and URL, signed by the token's key (RFC 9449)."},
	ReasonDPoPBinding:       {"DPoP proof key does not match the token binding", "The DPoP proof is signed by another key than the one the token is bound to (cnf.jkt); sign proofs with the key the token was issued for."},
	ReasonNotBound:          {"token is not DPoP-bound", "The token was sent with the DPoP scheme but has no cnf.jkt; send it as Bearer, or get a DPoP-bound token."},
	ReasonBoundAsBearer:     {"token is DPoP-bound and must be sent with the DPoP scheme", "The token is bound to a key (cnf); send it as \"Authorization: DPoP <token>\" with a DPoP proof header."},
	ReasonDPoPRequired:      {"this API accepts only DPoP-bound tokens", "Bearer tokens are not accepted here; get a DPoP-bound token and send it as \"Authorization: DPoP <token>\" with a DPoP proof."},
}

// Description is the short text for an RFC 6750 error_description attribute.
func (r Reason) Description() string { return reasonText[r].desc }

// Message is a sentence for humans explaining the failure and how to fix it.
func (r Reason) Message() string { return reasonText[r].msg }

// ErrKeysUnavailable means no key set has ever loaded, so no token can be judged; the middleware answers 503.
var ErrKeysUnavailable = errors.New("auth: signing keys are not loaded yet")

// Sentinels for rules golang-jwt does not enforce; they let classify name the reason.
var (
	errBadTyp    = errors.New("typ header must be JWT or at+jwt")
	errCrit      = errors.New("crit header is not supported")
	errNoKID     = errors.New("token header has no kid")
	errBadKID    = errors.New("kid header is not a string")
	errNotRS256  = errors.New("alg header must be RS256")
	errBadKey    = errors.New("key for this kid is not a usable RSA signing key")
	errUnknownKD = errors.New("kid not found in the key set")
	errTooLarge  = errors.New("token is too large")
)

// ValidationError says why a token was rejected. KID and Subject come from the unverified token when it could be
// decoded (attacker-controlled, for logs only, truncated).
type ValidationError struct {
	Reason  Reason
	KID     string
	Subject string
	// Got is the claim a bad_issuer or bad_audience token carried (iss, or aud comma-joined; unverified,
	// truncated), so the log shows the setup mistake beside what the API expects.
	Got string
	Err error
}

// Error includes the reason's description and the underlying cause; it never includes the token.
func (e *ValidationError) Error() string {
	msg := "auth: " + string(e.Reason)
	if d := e.Reason.Description(); d != "" {
		msg += ": " + d
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes the cause so errors.Is works with ErrKeysUnavailable and golang-jwt's errors.
func (e *ValidationError) Unwrap() error { return e.Err }

// ReasonOf extracts the reason of a validation error, or "" for other errors.
func ReasonOf(err error) Reason {
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return ve.Reason
	}
	return ""
}

// asValidationError returns the *ValidationError in err's chain, or nil.
func asValidationError(err error) *ValidationError {
	ve, _ := errors.AsType[*ValidationError](err)
	return ve
}

// classify maps a golang-jwt parse error onto a stable reason. Order matters: structural problems first, then the
// header rules, the key lookup, the signature, and finally the claims.
func classify(tok *jwt.Token, claims *Claims, err error) Reason {
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return ReasonKeysUnavailable
	case tok == nil, errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, errTooLarge), errors.Is(err, errBadKID):
		return ReasonMalformed
	}
	if alg, _ := tok.Header["alg"].(string); alg != "RS256" || errors.Is(err, errNotRS256) {
		return ReasonBadAlg
	}
	switch {
	case errors.Is(err, errCrit):
		return ReasonCrit
	case errors.Is(err, errBadTyp):
		return ReasonBadTyp
	case errors.Is(err, errNoKID), errors.Is(err, errUnknownKD), errors.Is(err, jwkset.ErrKeyNotFound):
		return ReasonUnknownKID
	case errors.Is(err, errBadKey):
		return ReasonBadKey
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ReasonBadSignature
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// golang-jwt uses one error for every required claim; the claims say which one is absent.
		switch {
		case claims.ExpiresAt == nil:
			return ReasonMissingExp
		case claims.Issuer == "":
			return ReasonBadIssuer
		default:
			return ReasonBadAudience
		}
	case errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ReasonIssuedInFuture
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ReasonBadIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ReasonBadAudience
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Any other key lookup failure (keyfunc errors) means no usable key was found for the kid.
		return ReasonUnknownKID
	}
	return ReasonMalformed
}
