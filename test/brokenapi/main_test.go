package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
)

// forged builds a token with the given JSON payload and a garbage signature, which a correct API must reject.
func forged(payloadJSON string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(payloadJSON)) + ".bm90LWEtc2lnbmF0dXJl"
}

// TestBrokenOnPurpose pins the bug the end-to-end run relies on: forged tokens get through, so a tester that
// passes against this API is not testing anything.
func TestBrokenOnPurpose(t *testing.T) {
	srv := httptest.NewServer(routes())
	defer srv.Close()
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"public", "/api/public", "", http.StatusOK},
		{"ready", "/readyz", "", http.StatusOK},
		{"no token", "/api/private", "", http.StatusUnauthorized},
		{"malformed", "/api/private", "Bearer abc", http.StatusUnauthorized},
		{"forged accepted", "/api/private", "Bearer " + forged(`{"sub":"mallory"}`), http.StatusOK},
		{"forged scoped accepted", "/api/private-scoped", "Bearer " + forged(`{"scope":"read:messages"}`), http.StatusOK},
		{"forged permissions accepted", "/api/private-scoped", "Bearer " + forged(`{"permissions":["read:messages"]}`), http.StatusOK},
		{"no scope", "/api/private-scoped", "Bearer " + forged(`{"scope":"write:messages"}`), http.StatusForbidden},
		{"secured ping", "/secured/ping", "Bearer " + forged(`{}`), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
		})
	}
}
