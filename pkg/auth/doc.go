// Package auth validates OAuth 2.0 access tokens (RS256 JWTs) against an issuer's JSON Web Key Set and adapts the
// validation to Gin as RFC 6750 bearer-token middleware.
//
// A Validator loads the key set in the background (discovery, retries with backoff, periodic refresh, rate-limited
// refetch on an unknown kid), checks every rule of the token contract (RS256 only, exact iss, aud, exp/nbf/iat with
// leeway, typ, crit) and caches successful validations by the SHA-256 of the token. Middleware answers 401, 400, 403
// and 503 with the WWW-Authenticate challenges and JSON bodies the contract fixes.
//
// Tokens are accepted only from the Authorization header (scheme Bearer, case-insensitive). An access_token query
// parameter or form field is never used as a credential; sent together with another token it makes the request a
// 400 invalid_request (RFC 6750 §2: a client must not use more than one method).
package auth
