package jwk

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"
)

func TestRSAPublic(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RSAPublic(&key.PublicKey, "k1")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %s", k, got[k], want)
		}
	}
	n, _ := base64.RawURLEncoding.DecodeString(got["n"].(string))
	e, _ := base64.RawURLEncoding.DecodeString(got["e"].(string))
	if new(big.Int).SetBytes(n).Cmp(key.N) != 0 || new(big.Int).SetBytes(e).Int64() != int64(key.E) {
		t.Error("n or e does not round-trip")
	}
	if _, ok := got["d"]; ok {
		t.Error("private part published")
	}
}
