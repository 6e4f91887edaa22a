package dpop_test

import (
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// FuzzVerify feeds arbitrary proofs and request URLs to the verifier: it must never panic, every failure must be a
// *dpop.Error with a sentinel, and an accepted proof must be refused the second time.
func FuzzVerify(f *testing.F) {
	keys(f)
	s := newSigner(f, ecKey)
	rs := newSigner(f, rsaKey)
	f.Add(mustProof(f, s, "GET", testURL, testToken), "GET", testURL, testToken)
	f.Add(mustProof(f, rs, "POST", "https://t.example/oauth/token", ""), "POST", "https://t.example/oauth/token", "")
	f.Add(mustProof(f, s, "GET", "https://API.example.com:443/a%7e/b?x#y", ""), "GET", "https://api.example.com/a~/b", "")
	f.Add(craft(f, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "dpop+jwt", "jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "", "y": ""}}, map[string]any{"iat": 1}), "GET", testURL, "")
	f.Add("e30.e30.", "GET", "http://[::1]:80/", "")
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IlJTQSIsIm4iOiIiLCJlIjoiIn19.e30.AA", "GET", "http://x/%zz", "t")
	sentinels := []error{dpop.ErrMissing, dpop.ErrMalformed, dpop.ErrType, dpop.ErrAlg, dpop.ErrKey, dpop.ErrSignature,
		dpop.ErrMethod, dpop.ErrURL, dpop.ErrIssuedAt, dpop.ErrReplay, dpop.ErrATH}
	f.Fuzz(func(t *testing.T, proof, method, url, token string) {
		v := newVerifier("ES256", "ES384", "ES512", "RS256", "PS256")
		p, err := v.Verify(proof, method, url, token)
		if err != nil {
			var de *dpop.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *dpop.Error", err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v matches no sentinel", err)
		}
		if p.JKT == "" || p.JTI == "" {
			t.Fatalf("accepted proof without jkt or jti: %+v", p)
		}
		if _, err := v.Verify(proof, method, url, token); !errors.Is(err, dpop.ErrReplay) {
			t.Fatalf("accepted proof accepted again: %v", err)
		}
	})
}
