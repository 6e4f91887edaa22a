package dpop

import "errors"

// Sentinel errors, one per rule, so callers can map a failure to a response without parsing text.
var (
	// ErrMissing means no proof was sent where one is needed.
	ErrMissing = errors.New("dpop: proof missing")
	// ErrMalformed means the proof is not a compact JWS with a decodable JSON header and claims, or the header
	// was sent more than once.
	ErrMalformed = errors.New("dpop: proof malformed")
	// ErrType means the typ header is not dpop+jwt.
	ErrType = errors.New("dpop: wrong typ")
	// ErrAlg means the alg is not asymmetric, not allowed, or does not fit the key.
	ErrAlg = errors.New("dpop: alg not allowed")
	// ErrKey means the jwk header is missing, not a supported public key, or carries private material.
	ErrKey = errors.New("dpop: bad jwk")
	// ErrSignature means the signature does not verify with the jwk.
	ErrSignature = errors.New("dpop: bad signature")
	// ErrMethod means htm is not the request's method.
	ErrMethod = errors.New("dpop: htm mismatch")
	// ErrURL means htu is not the request's URL.
	ErrURL = errors.New("dpop: htu mismatch")
	// ErrIssuedAt means iat is missing or outside the accepted window.
	ErrIssuedAt = errors.New("dpop: iat outside window")
	// ErrReplay means the jti was seen before within the window (or cannot be checked any more).
	ErrReplay = errors.New("dpop: proof replayed")
	// ErrATH means ath is missing or is not the hash of the presented access token.
	ErrATH = errors.New("dpop: ath mismatch")
)

// Error is a failed proof check: Kind is one of the sentinels above, Reason a short description safe to log or
// to return in error_description (it never contains the proof or a token).
type Error struct {
	Kind   error
	Reason string
	Err    error
}

// Error returns the reason, prefixed so it reads well in logs.
func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Kind.Error()
	}
	return "dpop: " + e.Reason
}

// Unwrap exposes the sentinel (and the cause, if any) to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func fail(kind error, reason string) *Error { return &Error{Kind: kind, Reason: reason} }

func failWrap(kind error, reason string, err error) *Error {
	return &Error{Kind: kind, Reason: reason, Err: err}
}
