package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

func TestPeekIssuer(t *testing.T) {
	enc := func(s string) string { return "e30." + base64.RawURLEncoding.EncodeToString([]byte(s)) + ".sig" }
	tests := []struct {
		name  string
		token string
		iss   string
		ok    bool
	}{
		{"plain", enc(`{"iss":"https://a/","sub":"x"}`), "https://a/", true},
		{"last of repeated", enc(`{"iss":"https://a/","iss":"https://b/"}`), "https://b/", true},
		{"escaped", enc(`{"iss":"https:\/\/a\/"}`), "https://a/", true},
		{"after nested", enc(`{"x":{"iss":"inner"},"iss":"outer"}`), "outer", true},
		{"absent", enc(`{"sub":"x"}`), "", true},
		{"number", enc(`{"iss":5}`), "", false},
		{"not JSON", enc(`{"iss":`), "", false},
		{"array", enc(`["iss"]`), "", false},
		{"one segment", "abc", "", false},
		{"bad base64", "a.!!!.c", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss, ok := peekIssuer(tc.token)
			if iss != tc.iss || ok != tc.ok {
				t.Fatalf("peekIssuer = %q, %v; want %q, %v", iss, ok, tc.iss, tc.ok)
			}
		})
	}
}

// FuzzPeekIssuer checks the issuer picked from an unverified payload is the iss encoding/json (and so golang-jwt,
// through Claims) sees, whenever both accept the payload.
func FuzzPeekIssuer(f *testing.F) {
	for _, s := range claimsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		iss, ok := peekIssuer("e30." + base64.RawURLEncoding.EncodeToString(payload) + ".x")
		var c Claims
		err := json.Unmarshal(payload, &c)
		if ok && err == nil && iss != c.Issuer {
			t.Fatalf("%s: peek %q, claims %q", payload, iss, c.Issuer)
		}
		if !ok && err == nil && json.Valid(payload) {
			var m map[string]any
			if json.Unmarshal(payload, &m) == nil {
				if _, isStr := m["iss"].(string); isStr || m["iss"] == nil {
					t.Fatalf("%s: claims decode, peek refused", payload)
				}
			}
		}
	})
}

// FuzzExtractCredential: any Authorization value yields at most one token and the scheme its prefix names;
// with DPoP off the DPoP scheme is never reported.
func FuzzExtractCredential(f *testing.F) {
	f.Add("DPoP a.b.c", "", true)
	f.Add("dpop\ta", "access_token=x", true)
	f.Add("DPoP a.b.c", "", false)
	f.Add("Bearer a", "", true)
	f.Fuzz(func(t *testing.T, authz, query string, withDPoP bool) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/", RawQuery: query}, Header: http.Header{}, Body: http.NoBody}
		r.Header.Set("Authorization", authz)
		tok, scheme, err := extractCredential(r, withDPoP)
		if err != nil && tok != "" {
			t.Fatal("token returned with an error")
		}
		if scheme == SchemeDPoP {
			want, ok := dpopToken(authz)
			if !withDPoP || !ok || (err == nil && tok != want) {
				t.Fatalf("DPoP scheme for %q (withDPoP %v): token %q", authz, withDPoP, tok)
			}
		}
	})
}
