// Package dpop makes and checks DPoP proofs (RFC 9449): a client signs one short JWT per request with a key it
// holds, and a resource or authorization server checks it, so a stolen access token bound to that key (cnf.jkt)
// is useless without the key.
//
// The package has no HTTP server or Gin dependency; callers pass the method, the request URL and the presented
// access token. Signer is for clients (the CLI, the tester); Verifier is for the API and the stand-in tenant.
//
// Choices the RFC leaves open, made here:
//
//   - htu matching (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2 and §6.2.3): both URLs must be absolute http or https
//     URLs without userinfo; query and fragment are dropped; scheme and host are compared case-insensitively; the
//     default port (80 for http, 443 for https) equals no port; an empty path equals "/"; percent-encodings are
//     compared with upper-case hex and unreserved characters decoded. Dot segments are not removed: a client sends
//     the URL it requests, and "/a/../b" naming "/b" would let one proof serve two routes.
//   - The jwk header is parsed by hand with the standard library's checked constructors rather than with jwkset,
//     because jwkset also parses x5c certificates and truncates large RSA exponents, which a proof key never
//     needs; private members (d, p, q, dp, dq, qi, oth, k) are refused, RSA moduli must be 2048 to 8192 bits.
//   - Replay: a jti (scoped by the proof key's thumbprint) is remembered until its iat leaves the window. The
//     memory is capped (VerifierOptions.MaxReplayEntries). When full, the entries with the oldest iat second are
//     evicted and that second becomes a floor: proofs issued at or before it are refused. So an evicted proof
//     can never be replayed (fail closed for old proofs) while fresh proofs keep working (a flood shortens the
//     window rather than stopping every client).
package dpop
