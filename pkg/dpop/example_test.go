package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// A client signs one proof per request; the API verifies it and compares the key's thumbprint with the token's
// cnf.jkt. The same proof sent twice is a replay.
func Example() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := dpop.NewSigner(key)
	const token = "eyJhbGciOiJSUzI1NiJ9.e30.sig" // a DPoP-bound access token with cnf.jkt = signer.Thumbprint()

	proof, _ := signer.Proof("GET", "https://api.example.com/api/private?page=2", token)

	v := dpop.NewVerifier(dpop.VerifierOptions{})
	p, err := v.Verify(proof, "GET", "https://API.example.com:443/api/private", token)
	fmt.Println("verified:", err == nil, "bound key:", p.JKT == signer.Thumbprint())

	_, err = v.Verify(proof, "GET", "https://api.example.com/api/private", token)
	fmt.Println("replay refused:", errors.Is(err, dpop.ErrReplay))
	// Output:
	// verified: true bound key: true
	// replay refused: true
}
