package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TypeHeader is the typ every proof carries (RFC 9449 §4.2).
const TypeHeader = "dpop+jwt"

// Signer makes proofs with one key (client side). It is safe for concurrent use.
type Signer struct {
	key        crypto.Signer
	method     jwt.SigningMethod
	members    map[string]string
	thumbprint string
	now        func() time.Time
}

// SignerOption configures NewSigner.
type SignerOption func(*signerConfig)

type signerConfig struct {
	alg string
	now func() time.Time
}

// WithAlg picks the algorithm for an RSA key (RS256, RS384, RS512, PS256, PS384, PS512); EC keys have one
// algorithm per curve, and asking for another is an error.
func WithAlg(alg string) SignerOption { return func(c *signerConfig) { c.alg = alg } }

// WithSignerClock sets the clock used for iat when a proof has no WithIssuedAt (tests).
func WithSignerClock(now func() time.Time) SignerOption { return func(c *signerConfig) { c.now = now } }

// NewSigner makes a Signer for an *ecdsa.PrivateKey (ES256/384/512 by curve) or an *rsa.PrivateKey (RS256 unless
// WithAlg says otherwise).
func NewSigner(key crypto.Signer, opts ...SignerOption) (*Signer, error) {
	cfg := signerConfig{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	var alg string
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, fail(ErrKey, "nil key")
		}
		alg = ecAlg(k.Curve)
		if alg == "" {
			return nil, fail(ErrKey, "unsupported curve")
		}
		if cfg.alg != "" && cfg.alg != alg {
			return nil, fail(ErrAlg, fmt.Sprintf("alg %s does not fit this EC key (want %s)", cfg.alg, alg))
		}
	case *rsa.PrivateKey:
		if k == nil {
			return nil, fail(ErrKey, "nil key")
		}
		alg = "RS256"
		if cfg.alg != "" {
			alg = cfg.alg
		}
		if keyFamily(alg) != "RSA" {
			return nil, fail(ErrAlg, fmt.Sprintf("alg %s does not fit an RSA key", alg))
		}
	default:
		return nil, fail(ErrKey, fmt.Sprintf("unsupported key type %T (want *ecdsa.PrivateKey or *rsa.PrivateKey)", key))
	}
	members, err := requiredMembers(key.Public())
	if err != nil {
		return nil, err
	}
	return &Signer{
		key:        key,
		method:     jwt.GetSigningMethod(alg),
		members:    members,
		thumbprint: thumbprintOf(members),
		now:        cfg.now,
	}, nil
}

// Alg is the JWS algorithm of the proofs.
func (s *Signer) Alg() string { return s.method.Alg() }

// Thumbprint is the key's RFC 7638 thumbprint, the cnf.jkt a server binds tokens to.
func (s *Signer) Thumbprint() string { return s.thumbprint }

// PublicJWK is the public jwk the proofs carry (a fresh map each call).
func (s *Signer) PublicJWK() map[string]any {
	m := make(map[string]any, len(s.members))
	for k, v := range s.members {
		m[k] = v
	}
	return m
}

// ProofOption adjusts one proof.
type ProofOption func(*proofConfig)

type proofConfig struct {
	iat   time.Time
	jti   string
	nonce string
}

// WithIssuedAt sets iat (default now).
func WithIssuedAt(t time.Time) ProofOption { return func(c *proofConfig) { c.iat = t } }

// WithJTI sets jti (default 128 random bits).
func WithJTI(jti string) ProofOption { return func(c *proofConfig) { c.jti = jti } }

// WithNonce adds a server-provided nonce (RFC 9449 §8, §9).
func WithNonce(nonce string) ProofOption { return func(c *proofConfig) { c.nonce = nonce } }

// Proof signs a proof for method and URL (query and fragment stripped, RFC 9449 §4.2); when accessToken is not
// empty the proof carries ath, the base64url SHA-256 of it, as a resource server requires.
func (s *Signer) Proof(method, rawURL, accessToken string, opts ...ProofOption) (string, error) {
	cfg := proofConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if method == "" {
		return "", fail(ErrMethod, "empty method")
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", failWrap(ErrURL, "htu must be an absolute URL", err)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	if cfg.iat.IsZero() {
		cfg.iat = s.now()
	}
	if cfg.jti == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		cfg.jti = b64.EncodeToString(b[:])
	}
	claims := jwt.MapClaims{
		"jti": cfg.jti,
		"htm": method,
		"htu": u.String(),
		"iat": cfg.iat.Unix(),
	}
	if accessToken != "" {
		claims["ath"] = ATH(accessToken)
	}
	if cfg.nonce != "" {
		claims["nonce"] = cfg.nonce
	}
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header["typ"] = TypeHeader
	tok.Header["jwk"] = s.PublicJWK()
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", failWrap(ErrSignature, "signing the proof", err)
	}
	return signed, nil
}

// ATH is the ath claim for an access token: base64url(SHA-256(token)) (RFC 9449 §4.2).
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64.EncodeToString(sum[:])
}
