package dpop

import (
	"crypto/elliptic"
	"slices"
	"strings"
	"time"
)

// DefaultIATWindow is how old (and, with Leeway, how far ahead) a proof's iat may be by default.
const DefaultIATWindow = 60 * time.Second

// DefaultLeeway is how far in the future iat may be by default, for clients whose clock runs a little ahead.
const DefaultLeeway = 5 * time.Second

// DefaultMaxReplayEntries caps the replay cache by default: about 1M proofs, about 35 MiB when full (measured by
// BenchmarkReplayCacheMemory at 35 bytes an entry).
const DefaultMaxReplayEntries = 1 << 20

// DefaultMaxProofBytes bounds the proof a Verifier will parse (an 8192-bit RSA proof is under 4 KiB).
const DefaultMaxProofBytes = 8 << 10

// supportedAlgs are the asymmetric JWS algorithms a proof may use; none and HMAC are never among them.
var supportedAlgs = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// DefaultAlgs returns the algorithms a Verifier accepts when none are given.
func DefaultAlgs() []string { return []string{"ES256", "RS256", "PS256"} }

// SupportedAlgs returns every algorithm a Verifier can be told to accept.
func SupportedAlgs() []string { return slices.Clone(supportedAlgs) }

// Supported reports whether alg is an asymmetric algorithm this package can verify (exact, case-sensitive).
func Supported(alg string) bool { return slices.Contains(supportedAlgs, alg) }

// keyFamily is the JWK kty an algorithm needs.
func keyFamily(alg string) string {
	switch {
	case !Supported(alg):
		return ""
	case strings.HasPrefix(alg, "ES"):
		return "EC"
	default:
		return "RSA"
	}
}

// ecAlg is the one algorithm RFC 7518 §3.4 pairs with a curve.
func ecAlg(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}
