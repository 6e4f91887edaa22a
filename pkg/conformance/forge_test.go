package conformance

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/tokens"
)

func TestSignVerifiesWithGolangJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"sub": "x", "exp": 4102444800}
	for _, tt := range []struct {
		method jwt.SigningMethod
		sign   any
		verify any
	}{
		{jwt.SigningMethodHS256, []byte("secret"), []byte("secret")},
		{jwt.SigningMethodHS256, []byte{}, []byte{}},
		{jwt.SigningMethodRS256, key, &key.PublicKey},
	} {
		tok, err := sign(tt.method, map[string]any{"alg": tt.method.Alg(), "kid": "k"}, claims, tt.sign)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return tt.verify, nil },
			jwt.WithValidMethods([]string{tt.method.Alg()}))
		if err != nil || !parsed.Valid {
			t.Errorf("%s token does not verify: %v", tt.method.Alg(), err)
		}
		h, c, err := tokens.DecodeUnverified(tok)
		if err != nil || h["kid"] != "k" || c["sub"] != "x" || c["exp"] != json.Number("4102444800") {
			t.Errorf("decodeToken = %v %v %v", h, c, err)
		}
	}
}

func TestSameValues(t *testing.T) {
	got := map[string]any{"exp": json.Number("5"), "aud": []any{"a", "b"}, "scope": "read"}
	tests := []struct {
		want map[string]any
		err  string
	}{
		{map[string]any{"exp": int64(5), "aud": []string{"a", "b"}}, ""},
		{map[string]any{"nbf": nil, "scope": "read"}, ""},
		{map[string]any{"exp": 6}, `claim "exp" is 5, want 6`},
		{map[string]any{"scope": nil}, "present, want it removed"},
		{map[string]any{"iss": "x"}, "missing"},
	}
	for _, tt := range tests {
		err := sameValues("claim", tt.want, got)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("sameValues(%v) = %v, want %q", tt.want, err, tt.err)
		}
	}
}

func TestWith(t *testing.T) {
	base := map[string]any{"a": 1, "b": 2}
	out := with(base, map[string]any{"a": nil, "c": 3})
	if _, ok := out["a"]; ok || out["b"] != 2 || out["c"] != 3 || base["a"] != 1 {
		t.Errorf("with = %v (base %v)", out, base)
	}
}

// FuzzSplitToken: tokens come from tenants and APIs we do not control; splitting and decoding must never panic.
func FuzzSplitToken(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	f.Add("a.b.c")
	f.Add("bnVsbA.bnVsbA.")
	f.Add("....")
	f.Fuzz(func(t *testing.T, tok string) {
		h, c, err := tokens.DecodeUnverified(tok)
		if err == nil && (h == nil || c == nil) {
			t.Fatalf("DecodeUnverified(%q) gave nil maps without an error", tok)
		}
		_, _, _ = parts(tok)
	})
}

// FuzzParseJWKS: key sets come from tenants we do not control; parsing must never panic, and a parsed RSA key
// is usable.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"a","n":"sXch","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"","e":"AQABAQAB"},{"kty":"EC"},null,1]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AA","e":"AA"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.rsa != nil && (k.rsa.N.Sign() <= 0 || k.rsa.E <= 0) {
				t.Fatalf("unusable RSA key parsed: %+v", k.rsa)
			}
		}
	})
}
