package tenant

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// JWKS certificates never expire and carry the same dates for every key: a verifier that reads x5c (the API never
// does) must not start failing while the key is published, and a fixed template makes an RSA key's certificate
// byte-identical at every load (PKCS#1 v1.5 signatures are deterministic), so its x5t is as stable as its kid
// across restarts with --key-file. RFC 5280 §4.1.2.5 reserves 9999-12-31 23:59:59 for "no expiration".
var (
	x5cNotBefore = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
	x5cNotAfter  = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
)

// selfSignedCert makes the certificate the JWKS publishes as a key's x5c: self-signed by the key, so it is valid
// for exactly that key, with the kid in the subject and a serial derived from it.
func selfSignedCert(priv crypto.Signer, kid string) ([]byte, error) {
	sum := sha256.Sum256([]byte(kid))
	serial := new(big.Int).SetBytes(sum[:16]) // positive, at most 128 bits: within RFC 5280's 20 octets
	name := pkix.Name{CommonName: "tokencheck stand-in tenant", OrganizationalUnit: []string{kid}}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             x5cNotBefore,
		NotAfter:              x5cNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return nil, fmt.Errorf("certificate for key %s: %w", kid, err)
	}
	return der, nil
}
