// Package jwk writes public JSON Web Keys with github.com/MicahParks/jwkset, so the tester's trap key and the test
// issuers publish keys exactly as a JWKS library reads them, from one encoder.
package jwk

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"

	"github.com/MicahParks/jwkset"
)

// RSAPublic is pub as a signing JWK for RS256 under kid: kty, n, e, alg, use and kid, as a JSON object.
func RSAPublic(pub *rsa.PublicKey, kid string) (map[string]any, error) {
	k, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgRS256, KID: kid, USE: jwkset.UseSig},
	})
	if err != nil {
		return nil, fmt.Errorf("encode RSA JWK %q: %w", kid, err)
	}
	raw, err := json.Marshal(k.Marshal())
	if err != nil {
		return nil, fmt.Errorf("encode RSA JWK %q: %w", kid, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("encode RSA JWK %q: %w", kid, err)
	}
	return out, nil
}
