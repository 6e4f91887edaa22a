// Package auth validates OAuth 2.0 access tokens (RS256 JWTs) against an issuer's JSON Web Key Set and adapts the
// validation to Gin as RFC 6750 bearer-token middleware.
//
// The core knows no HTTP framework: a Validator loads the key set in the background (discovery checked against
// the configured issuer, retries with backoff, periodic refresh, a detached rate-limited refetch on an unknown
// kid), checks every rule of the token contract (RS256 only, exact iss, aud, exp/nbf/iat with leeway, typ, crit)
// in Validate and caches successful validations by the SHA-256 of the token; answer maps any failure onto the
// status, WWW-Authenticate challenge and JSON body the contract fixes (401, 400, 403, 503).
//
// gin.go is the one Gin adapter (Middleware, RequireScope, ClaimsFrom, LogAttrs) around go-jwt-middleware v2: the
// verified claims live only in the request context under jwtmiddleware.ContextKey{}, and each rejection is
// counted once.
//
// Tokens are accepted only from the Authorization header (scheme Bearer, or DPoP unless disabled; both
// case-insensitive). An access_token query parameter or form field is never used as a credential; sent together
// with another token it makes the request a 400 invalid_request (RFC 6750 §2: a client must not use more than one
// method).
//
// DPoP (RFC 9449, credential.go): a token with a cnf claim is never a bearer token; with the DPoP scheme it needs
// cnf.jkt and exactly one DPoP proof header, checked by pkg/dpop on every request (method, RequestURL, ath) after
// the token's own, cacheable, validation. Challenges (challenge.go) carry one entry per accepted scheme and a
// resource_metadata pointer (RFC 9728 §5.1).
//
// Several issuers (issuer.go): each has its own parser, key set, keyfunc, refetch limiter and load loop; the
// unverified iss only chooses which of them may verify a token, and an unconfigured iss is refused at once.
package auth
