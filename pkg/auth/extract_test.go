package auth

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExtractTokenKeepsBody(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		auth    string
		ctype   string
		body    string
		token   string
		wantErr bool
	}{
		{"header only", "/", "Bearer t", "application/x-www-form-urlencoded", "a=1", "t", false},
		{"header and form token", "/", "Bearer t", "application/x-www-form-urlencoded; charset=utf-8", "a=1&access_token=x", "", true},
		{"header and json body mentioning access_token", "/", "Bearer t", "application/json", `{"access_token":"x"}`, "t", false},
		{"form only", "/", "", "application/x-www-form-urlencoded", "access_token=x", "", false},
		{"query and form", "/?access_token=q", "", "application/x-www-form-urlencoded", "access_token=x", "", true},
		{"huge form is not inspected", "/", "Bearer t", "application/x-www-form-urlencoded",
			"access_token=x&pad=" + strings.Repeat("a", maxFormPeek), "t", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			tok, err := extractToken(r)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, errMultipleTokens)) {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tok != tt.token {
				t.Fatalf("token = %q, want %q", tok, tt.token)
			}
			rest, _ := io.ReadAll(r.Body)
			if string(rest) != tt.body {
				t.Fatalf("handler would read %d bytes, want the original %d", len(rest), len(tt.body))
			}
		})
	}
}
