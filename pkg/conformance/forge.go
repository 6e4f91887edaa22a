package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// b64 is unpadded base64url, as JWS segments use.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// segment is the base64url JSON encoding of v. Maps of JSON values always encode, so an error is a programming bug
// reported as an empty segment the API must still reject.
func segment(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return b64(raw)
}

// compact joins a header, claims and raw signature into a compact JWS.
func compact(header, claims map[string]any, sig []byte) string {
	return segment(header) + "." + segment(claims) + "." + b64(sig)
}

// sign builds a JWS whose header says whatever header says, signed by method with key.
func sign(method jwt.SigningMethod, header, claims map[string]any, key any) (string, error) {
	input := segment(header) + "." + segment(claims)
	sig, err := method.Sign(input, key)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", method.Alg(), err)
	}
	return input + "." + b64(sig), nil
}

// sameValues checks that got holds every value of want (compared as JSON) and none of the keys want maps to nil.
func sameValues(kind string, want, got map[string]any) error {
	for k, v := range want {
		g, ok := got[k]
		if v == nil {
			if ok {
				return fmt.Errorf("%s %q is present, want it removed", kind, k)
			}
			continue
		}
		if !ok {
			return fmt.Errorf("%s %q is missing", kind, k)
		}
		if !jsonEqual(v, g) {
			return fmt.Errorf("%s %q is %s, want %s", kind, k, jsonString(g), jsonString(v))
		}
	}
	return nil
}

func jsonEqual(a, b any) bool { return jsonString(normalize(a)) == jsonString(normalize(b)) }

// normalize round-trips v through JSON with UseNumber, so 5, int64(5) and json.Number("5") compare equal.
func normalize(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

func jsonString(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// with returns a copy of m with the entries of set applied; a nil value deletes the key.
func with(m, set map[string]any) map[string]any {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range set {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// parts splits a compact token into its three segments; a token of another shape gives three empty strings.
func parts(tok string) (header, claims, sig string) {
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		return "", "", ""
	}
	return p[0], p[1], p[2]
}
