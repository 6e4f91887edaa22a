package dpop_test

import (
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func bigFromB64(t testing.TB, s string) *big.Int {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(b)
}

func mustProof(t testing.TB, s *dpop.Signer, method, url, token string, opts ...dpop.ProofOption) string {
	t.Helper()
	p, err := s.Proof(method, url, token, opts...)
	if err != nil {
		t.Fatalf("Proof: %v", err)
	}
	return p
}

// newSignerNoCheck returns the public jwk of an RSA key the Signer accepts but the Verifier must not.
func newSignerNoCheck(t testing.TB, key *rsa.PrivateKey) map[string]any {
	t.Helper()
	s, err := dpop.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicJWK()
}
