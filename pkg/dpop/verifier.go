package dpop

import (
	"crypto"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifierOptions configures NewVerifier; zero values take the package defaults.
type VerifierOptions struct {
	// Algs are the accepted JWS algorithms (default DefaultAlgs); names Supported does not know are ignored.
	Algs []string
	// IATWindow is how old a proof may be (default DefaultIATWindow); replayed jti are remembered this long.
	IATWindow time.Duration
	// Leeway is how far in the future iat may be (default DefaultLeeway; zero or less means the default).
	Leeway time.Duration
	// MaxReplayEntries caps the replay cache (default DefaultMaxReplayEntries).
	MaxReplayEntries int
	// MaxProofBytes bounds the proof's length (default DefaultMaxProofBytes).
	MaxProofBytes int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier checks proofs (server and tenant side). It is safe for concurrent use; its replay cache is shared by
// every call, so use one Verifier per protected audience.
type Verifier struct {
	algs     []string
	window   time.Duration
	leeway   time.Duration
	maxBytes int
	now      func() time.Time
	replay   *replayCache
}

// Proof is what a verified proof tells the caller.
type Proof struct {
	// JKT is the RFC 7638 thumbprint of the proof's key, to compare with the token's cnf.jkt.
	JKT string
	// JTI is the proof's unique id.
	JTI string
	// Alg is the proof's JWS algorithm.
	Alg string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Nonce is the proof's nonce claim, empty when absent; checking it is the caller's business.
	Nonce string
}

// NewVerifier builds a Verifier; see VerifierOptions for the defaults.
func NewVerifier(o VerifierOptions) *Verifier {
	v := &Verifier{window: o.IATWindow, leeway: o.Leeway, maxBytes: o.MaxProofBytes, now: o.Now}
	for _, a := range o.Algs {
		if Supported(a) && !slices.Contains(v.algs, a) {
			v.algs = append(v.algs, a)
		}
	}
	if len(v.algs) == 0 {
		v.algs = DefaultAlgs()
	}
	if v.window <= 0 {
		v.window = DefaultIATWindow
	}
	if v.leeway <= 0 {
		v.leeway = DefaultLeeway
	}
	if v.maxBytes <= 0 {
		v.maxBytes = DefaultMaxProofBytes
	}
	if v.now == nil {
		v.now = time.Now
	}
	maxEntries := o.MaxReplayEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxReplayEntries
	}
	v.replay = newReplayCache(maxEntries)
	return v
}

// Algs are the accepted algorithms, for the algs parameter of a WWW-Authenticate challenge and for metadata.
func (v *Verifier) Algs() []string { return slices.Clone(v.algs) }

// IATWindow is the accepted age of a proof.
func (v *Verifier) IATWindow() time.Duration { return v.window }

// FromHeader returns the single DPoP header value of a request; none is ErrMissing, more than one ErrMalformed
// (RFC 9449 §4.3 step 1).
func FromHeader(h http.Header) (string, error) {
	vals := h.Values("DPoP")
	switch len(vals) {
	case 0:
		return "", fail(ErrMissing, "no DPoP header")
	case 1:
		if strings.TrimSpace(vals[0]) == "" {
			return "", fail(ErrMissing, "empty DPoP header")
		}
		return strings.TrimSpace(vals[0]), nil
	default:
		return "", fail(ErrMalformed, "more than one DPoP header")
	}
}

type proofHeader struct {
	Typ string          `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
	// Crit is refused whatever it says: no extension is understood (RFC 7515 §4.1.11).
	Crit json.RawMessage `json:"crit"`
}

type proofClaims struct {
	jwt.RegisteredClaims
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// Verify checks one proof for (method, htu) — htu is the request's URL; its query and fragment are ignored — and,
// when accessToken is not empty, that the proof's ath is the token's hash. A proof that passes every other check
// is then recorded, so the same proof is refused the second time (ErrReplay).
func (v *Verifier) Verify(proof, method, htu, accessToken string) (*Proof, error) {
	if proof == "" {
		return nil, fail(ErrMissing, "no proof")
	}
	if len(proof) > v.maxBytes {
		return nil, fail(ErrMalformed, fmt.Sprintf("proof longer than %d bytes", v.maxBytes))
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" { // an empty signature fails later, by alg or signature
		return nil, fail(ErrMalformed, "proof is not a compact JWS")
	}
	rawHeader, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, failWrap(ErrMalformed, "proof header is not base64url", err)
	}
	var hdr proofHeader
	if err := json.Unmarshal(rawHeader, &hdr); err != nil {
		return nil, failWrap(ErrMalformed, "proof header is not a JSON object", err)
	}
	if !strings.EqualFold(hdr.Typ, TypeHeader) {
		return nil, fail(ErrType, "typ must be dpop+jwt")
	}
	if hdr.Crit != nil {
		return nil, fail(ErrMalformed, "crit header not supported")
	}
	if !slices.Contains(v.algs, hdr.Alg) {
		return nil, fail(ErrAlg, "alg not allowed (allowed: "+strings.Join(v.algs, " ")+")")
	}
	pub, jkt, err := parseJWK(hdr.JWK)
	if err != nil {
		return nil, err
	}
	if kty := keyFamily(hdr.Alg); (kty == "EC") != isEC(pub) {
		return nil, fail(ErrAlg, "alg "+hdr.Alg+" does not fit the jwk")
	}
	if isEC(pub) && ecAlg(ecCurve(pub)) != hdr.Alg {
		return nil, fail(ErrAlg, "alg "+hdr.Alg+" does not fit the jwk's curve")
	}

	var claims proofClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{hdr.Alg}),
		jwt.WithoutClaimsValidation(), // iat is checked below against the DPoP window, not as an access token's
		jwt.WithStrictDecoding(),
	)
	_, err = parser.ParseWithClaims(proof, &claims, func(*jwt.Token) (any, error) { return pub, nil })
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, failWrap(ErrSignature, "signature does not verify with the jwk", err)
	default:
		return nil, failWrap(ErrMalformed, "proof claims are not a valid JSON object", err)
	}

	if claims.HTM != method {
		return nil, fail(ErrMethod, "htm is not the request method")
	}
	want, ok := normalizeHTU(htu)
	got, okProof := normalizeHTU(claims.HTU)
	if !ok || !okProof || got != want {
		return nil, fail(ErrURL, "htu is not the request URL")
	}
	if claims.IssuedAt == nil {
		return nil, fail(ErrIssuedAt, "iat missing")
	}
	iat := claims.IssuedAt.Time
	now := v.now()
	if iat.Before(now.Add(-v.window)) {
		return nil, fail(ErrIssuedAt, "iat too old")
	}
	if iat.After(now.Add(v.leeway)) {
		return nil, fail(ErrIssuedAt, "iat in the future")
	}
	if claims.ID == "" {
		return nil, fail(ErrReplay, "jti missing")
	}
	if accessToken != "" {
		if claims.ATH == "" {
			return nil, fail(ErrATH, "ath missing")
		}
		if subtle.ConstantTimeCompare([]byte(claims.ATH), []byte(ATH(accessToken))) != 1 {
			return nil, fail(ErrATH, "ath is not the access token's hash")
		}
	}
	// Seconds before now-window can no longer pass the iat check, so their entries are not needed.
	expireBefore := now.Add(-v.window).Unix()
	switch v.replay.add(newReplayKey(jkt, claims.ID), iat.Unix(), expireBefore) {
	case replaySeen:
		return nil, fail(ErrReplay, "jti already used")
	case replayTooOld:
		return nil, fail(ErrReplay, "replay cache full: proof too old to check, send a fresh one")
	}
	return &Proof{JKT: jkt, JTI: claims.ID, Alg: hdr.Alg, IssuedAt: iat, Nonce: claims.Nonce}, nil
}

func isEC(pub crypto.PublicKey) bool { return ecCurve(pub) != nil }
