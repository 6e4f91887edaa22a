package tenant

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition
	"crypto/x509"
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/MicahParks/jwkset"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// TestJWKSCertificates checks every published key's x5c and x5t (RFC 7517 §4.7, §4.8) independently: the
// certificate is standard base64 DER, self-signed by the key it is published with, and x5t is the base64url SHA-1
// of that DER; jwkset (servedJWKS) also rejects a certificate whose key differs from the JWK's.
func TestJWKSCertificates(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{ECKey: true, KeyFile: filepath.Join(t.TempDir(), "keys.pem")})
	if _, err := f.tenant.PrepublishKey(); err != nil {
		t.Fatal(err)
	}
	keys, members := f.servedJWKS()
	if len(members) != 3 {
		t.Fatalf("%d keys, want current, staged and EC", len(members))
	}
	certs := map[string]string{}
	for _, m := range members {
		kid := m["kid"].(string)
		t.Run(m["kty"].(string)+" "+kid, func(t *testing.T) {
			x5c, ok := m["x5c"].([]any)
			if !ok || len(x5c) != 1 {
				t.Fatalf("x5c %v, want one certificate", m["x5c"])
			}
			der, err := base64.StdEncoding.DecodeString(x5c[0].(string))
			if err != nil {
				t.Fatalf("x5c is not standard base64: %v", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			// Self-signed: its own key verifies its signature (CheckSignatureFrom would also demand a CA).
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Fatalf("not self-signed: %v", err)
			}
			if cert.IsCA || cert.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Fatalf("IsCA %v, key usage %v: want a signing certificate that can sign nothing else", cert.IsCA, cert.KeyUsage)
			}
			type equaler interface{ Equal(x crypto.PublicKey) bool }
			if !cert.PublicKey.(equaler).Equal(keys[kid].Key()) {
				t.Fatal("the certificate's key is not the published key")
			}
			sum := sha1.Sum(der) //nolint:gosec // see the import
			if m["x5t"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
				t.Fatalf("x5t %v is not the SHA-1 of x5c[0]", m["x5t"])
			}
			if _, has := m["x5t#S256"]; has {
				t.Fatal("x5t#S256 published; Auth0 publishes x5t only")
			}
			certs[kid] = x5c[0].(string)
		})
	}
	for _, m := range members {
		want := map[string]string{"RSA": "RS256", "EC": "ES256"}[m["kty"].(string)]
		if m["alg"] != want || m["use"] != "sig" || (m["kty"] == "EC" && m["crv"] != "P-256") {
			t.Fatalf("key %v", m)
		}
	}

	// Stable for the life of each key: the next fetch, and a rotation, leave every remaining key's certificate as it was.
	if _, err := f.tenant.Rotate(); err != nil {
		t.Fatal(err)
	}
	_, after := f.servedJWKS()
	for _, m := range after {
		kid := m["kid"].(string)
		if was, ok := certs[kid]; ok && m["x5c"].([]any)[0] != was {
			t.Fatalf("key %s: certificate changed by a rotation", kid)
		}
	}
	// And an RSA key's certificate is the same after a restart from the key file (deterministic signatures).
	again, err := loadKeyStore(f.tenant.keys.file, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range again.jwks() {
		if was, ok := certs[k.KID]; ok && k.KTY == jwkset.KtyRSA && k.X5C[0] != was {
			t.Fatalf("RSA key %s: certificate changed across a restart", k.KID)
		}
	}
}

// TestECThumbprint checks the EC kid follows RFC 7638 §3 on RFC 7517 Appendix A.1's P-256 key: SHA-256 of
// {"crv","kty","x","y"} in that order, with x and y exactly as the RFC writes them.
func TestECThumbprint(t *testing.T) {
	t.Parallel()
	const x, y = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
	xb, _ := base64.RawURLEncoding.DecodeString(x)
	yb, _ := base64.RawURLEncoding.DecodeString(y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, xb...), yb...))
	if err != nil {
		t.Fatal(err)
	}
	got, err := dpop.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := thumbprintOf(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`); got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
	// A generated key's JWK coordinates are full-size (32 bytes: 43 characters) even when they start with zeros.
	for range 20 {
		k, err := newECKey()
		if err != nil {
			t.Fatal(err)
		}
		if j := k.pub; len(j.X) != 43 || len(j.Y) != 43 || j.KID != k.kid {
			t.Fatalf("JWK %+v: coordinates must be 43 characters", j)
		}
	}
}
