package conformance

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"

	jwkenc "github.com/tokencheck/tokencheck/internal/jwk"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// jwk is one published key: its exact JSON (the HS256 confusion cases use those bytes) and, for RSA, the key.
type jwk struct {
	Kid string
	Alg string // the algorithm the key is published for, "" when the JWKS does not say
	raw json.RawMessage
	rsa *rsa.PublicKey
}

// fetchJWKS reads a key set; keys that are not usable RSA keys are kept without a parsed key.
func fetchJWKS(ctx context.Context, hc *http.Client, url string) ([]jwk, error) {
	resp, err := httpcall.Do(ctx, hc, httpcall.Request{Method: http.MethodGet, URL: url})
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, resp.Status)
	}
	keys, err := parseJWKS(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return keys, nil
}

// parseJWKS reads a key set document from an untrusted server; it never panics.
func parseJWKS(body []byte) ([]jwk, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	out := make([]jwk, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k struct {
			Kid, Kty, Alg, N, E string
		}
		if json.Unmarshal(raw, &k) != nil {
			continue
		}
		key := jwk{Kid: k.Kid, Alg: k.Alg, raw: raw}
		if k.Kty == "RSA" {
			key.rsa = rsaFromJWK(k.N, k.E)
		}
		out = append(out, key)
	}
	return out, nil
}

func rsaFromJWK(n, e string) *rsa.PublicKey {
	nb, err1 := base64.RawURLEncoding.DecodeString(n)
	eb, err2 := base64.RawURLEncoding.DecodeString(e)
	if err1 != nil || err2 != nil || len(nb) == 0 || len(eb) == 0 || len(eb) > 4 {
		return nil
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	if key.N.Sign() <= 0 || key.E < 3 {
		return nil
	}
	return key
}

// publicJWK is the JWK form of an RSA public key with kid; an encoding failure (impossible for the trap's own
// 2048-bit key) gives an empty object, which an API must refuse anyway.
func publicJWK(pub *rsa.PublicKey, kid string) map[string]any {
	out, err := jwkenc.RSAPublic(pub, kid)
	if err != nil {
		return map[string]any{}
	}
	return out
}

// keyForms are the byte strings a vulnerable library may use as an HMAC secret when handed an RSA public key.
func keyForms(k *jwk) map[string][]byte {
	pkix, err := x509.MarshalPKIXPublicKey(k.rsa)
	if err != nil {
		return nil
	}
	return map[string][]byte{
		"pem":       pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"pem-pkcs1": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k.rsa)}),
		"der":       pkix,
		"jwk":       []byte(k.raw),
	}
}
