package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// RSA modulus bounds for proof keys: below 2048 bits is weak, above 8192 bits makes verification a CPU sink.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// privateMembers are JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

var b64 = base64.RawURLEncoding

// Thumbprint is the RFC 7638 JWK SHA-256 thumbprint (base64url, no padding) of a public key (EC P-256/384/521,
// RSA); it is the value of cnf.jkt in a DPoP-bound token.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	members, err := requiredMembers(pub)
	if err != nil {
		return "", err
	}
	return thumbprintOf(members), nil
}

// thumbprintOf hashes the required members in lexicographic order without whitespace (RFC 7638 §3.2); values are
// base64url strings or curve names, so they need no JSON escaping.
func thumbprintOf(m map[string]string) string {
	var s string
	if m["kty"] == "EC" {
		s = `{"crv":"` + m["crv"] + `","kty":"EC","x":"` + m["x"] + `","y":"` + m["y"] + `"}`
	} else {
		s = `{"e":"` + m["e"] + `","kty":"RSA","n":"` + m["n"] + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}

// requiredMembers returns the RFC 7638 required members of a public key, canonically encoded.
func requiredMembers(pub crypto.PublicKey) (map[string]string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return nil, fail(ErrKey, "empty EC key")
		}
		crv, size, ok := curveName(k.Curve)
		if !ok {
			return nil, fail(ErrKey, "unsupported curve")
		}
		raw, err := k.Bytes()
		if err != nil || len(raw) != 1+2*size {
			return nil, failWrap(ErrKey, "invalid EC key", err)
		}
		return map[string]string{
			"kty": "EC", "crv": crv,
			"x": b64.EncodeToString(raw[1 : 1+size]), "y": b64.EncodeToString(raw[1+size:]),
		}, nil
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.E < 2 {
			return nil, fail(ErrKey, "invalid RSA key")
		}
		return map[string]string{
			"kty": "RSA",
			"n":   b64.EncodeToString(k.N.Bytes()),
			"e":   b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		}, nil
	default:
		return nil, fail(ErrKey, fmt.Sprintf("unsupported key type %T", pub))
	}
}

func curveName(c elliptic.Curve) (name string, size int, ok bool) {
	switch c {
	case elliptic.P256():
		return "P-256", 32, true
	case elliptic.P384():
		return "P-384", 48, true
	case elliptic.P521():
		return "P-521", 66, true
	}
	return "", 0, false
}

func curveByName(name string) (elliptic.Curve, int, bool) {
	switch name {
	case "P-256":
		return elliptic.P256(), 32, true
	case "P-384":
		return elliptic.P384(), 48, true
	case "P-521":
		return elliptic.P521(), 66, true
	}
	return nil, 0, false
}

// parseJWK turns a proof's jwk header into a public key and its thumbprint, refusing private material.
func parseJWK(raw json.RawMessage) (crypto.PublicKey, string, error) {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, "", fail(ErrKey, "jwk header missing or not an object")
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, "", fail(ErrKey, "jwk carries private key member "+name)
		}
	}
	str := func(name string) (string, bool) {
		v, ok := m[name]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	kty, _ := str("kty")
	switch kty {
	case "EC":
		crvName, _ := str("crv")
		curve, size, ok := curveByName(crvName)
		if !ok {
			return nil, "", fail(ErrKey, "jwk has an unsupported curve")
		}
		xs, okx := str("x")
		ys, oky := str("y")
		x, errx := b64.DecodeString(xs)
		y, erry := b64.DecodeString(ys)
		if !okx || !oky || errx != nil || erry != nil || len(x) != size || len(y) != size {
			return nil, "", fail(ErrKey, "jwk x or y is not a base64url coordinate of the curve's size")
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, "", failWrap(ErrKey, "jwk point is not on the curve", err)
		}
		// Re-encode: base64url decoding tolerates line breaks and stray bits, and the thumbprint must be canonical.
		return pub, thumbprintOf(map[string]string{"kty": "EC", "crv": crvName, "x": b64.EncodeToString(x), "y": b64.EncodeToString(y)}), nil
	case "RSA":
		ns, okn := str("n")
		es, oke := str("e")
		n, errn := b64.DecodeString(ns)
		e, erre := b64.DecodeString(es)
		if !okn || !oke || errn != nil || erre != nil || len(n) == 0 || n[0] == 0 || len(e) == 0 || e[0] == 0 || len(e) > 4 {
			return nil, "", fail(ErrKey, "jwk n or e is not a minimal base64url integer")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, "", fail(ErrKey, fmt.Sprintf("jwk RSA modulus has %d bits, want %d to %d", bits, minRSABits, maxRSABits))
		}
		if pub.E < 3 || pub.E&1 == 0 || pub.E > 1<<31-1 {
			return nil, "", fail(ErrKey, "jwk RSA exponent out of range")
		}
		return pub, thumbprintOf(map[string]string{"kty": "RSA", "n": b64.EncodeToString(n), "e": b64.EncodeToString(e)}), nil
	default:
		return nil, "", fail(ErrKey, "jwk kty must be EC or RSA")
	}
}

func ecCurve(pub crypto.PublicKey) elliptic.Curve {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		return k.Curve
	}
	return nil
}
