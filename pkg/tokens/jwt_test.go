package tokens

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

func TestDecodeUnverified(t *testing.T) {
	key := testissuer.NewKey(t, "k1")
	good := testissuer.Sign(t, map[string]any{"alg": "RS256", "kid": "k1"}, map[string]any{"sub": "a", "exp": 1893456000}, key.Private)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{name: "signed token", token: good},
		{name: "unsigned is still decoded", token: enc(`{"alg":"none"}`) + "." + enc(`{"sub":"a"}`) + "."},
		{name: "two parts", token: "a.b", wantErr: "2 dot-separated parts"},
		{name: "opaque", token: "abc", wantErr: "1 dot-separated parts"},
		{name: "bad base64", token: "!!.e30.x", wantErr: "not base64url"},
		{name: "header not an object", token: enc(`[1]`) + "." + enc(`{}`) + ".x", wantErr: "not a JSON object"},
		{name: "claims null", token: enc(`{}`) + "." + enc(`null`) + ".x", wantErr: "null"},
		{name: "trailing data", token: enc(`{}`) + "." + enc(`{} {}`) + ".x", wantErr: "trailing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, c, err := DecodeUnverified(tc.token)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || h["alg"] == nil || c["sub"] != "a" {
				t.Fatalf("header %v claims %v err %v", h, c, err)
			}
		})
	}
	_, c, _ := DecodeUnverified(good)
	if n, ok := c["exp"].(json.Number); !ok || n.String() != "1893456000" {
		t.Errorf("exp = %#v, want the exact json.Number 1893456000", c["exp"])
	}
}

func FuzzDecodeUnverified(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.sig")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("e30.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		h, c, err := DecodeUnverified(s)
		if err == nil && (h == nil || c == nil) {
			t.Fatalf("DecodeUnverified(%q) returned nil maps without error", s)
		}
	})
}
