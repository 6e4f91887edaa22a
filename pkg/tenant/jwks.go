package tenant

import (
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/MicahParks/jwkset"
)

// serveJWKS publishes the public halves of the signing key, the key it replaced, a staged next key and the P-256
// key, each with its self-signed certificate (x5c, x5t) as Auth0 publishes them.
func (t *Tenant) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	set := struct {
		Keys []jwkset.JWKMarshal `json:"keys"`
	}{Keys: t.keys.jwks()}
	w.Header().Set("Cache-Control", "public, max-age=15")
	writeJSON(w, http.StatusOK, set)
}

// publicJWK is the JWKS entry of pub: kty and its public members, use sig, alg, kid, and the certificate der as
// x5c with its SHA-1 thumbprint x5t, encoded by jwkset, which also checks that der certifies pub.
func publicJWK(pub any, alg jwkset.ALG, kid string, der []byte) (jwkset.JWKMarshal, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return jwkset.JWKMarshal{}, fmt.Errorf("certificate for key %s: %w", kid, err)
	}
	k, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{ALG: alg, KID: kid, USE: jwkset.UseSig},
		X509:     jwkset.JWKX509Options{X5C: []*x509.Certificate{cert}},
	})
	if err != nil {
		return jwkset.JWKMarshal{}, fmt.Errorf("JWK for key %s: %w", kid, err)
	}
	m := k.Marshal()
	m.X5TS256 = "" // Auth0's JWKS carries x5t only; a stand-in publishes what the real one does
	return m, nil
}
