package auth

import "testing"

func TestChallenge(t *testing.T) {
	tests := []struct {
		name  string
		attrs []string
		want  string
	}{
		{"bare", nil, `Bearer realm="api"`},
		{"error", []string{"error", "invalid_token", "error_description", "token is expired"},
			`Bearer realm="api", error="invalid_token", error_description="token is expired"`},
		{"empty values skipped", []string{"error", "invalid_token", "error_description", "", "scope", ""},
			`Bearer realm="api", error="invalid_token"`},
		{"quotes and backslashes", []string{"scope", `a"b\c`}, `Bearer realm="api", scope="a\"b\\c"`},
		{"controls and non-ASCII", []string{"scope", "a\r\nb\x00é"}, `Bearer realm="api", scope="a??b???"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := challenge(tt.attrs...); got != tt.want {
				t.Fatalf("challenge = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		token  string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Bearer\tabc", "abc", true},
		{"Bearer a b", "a b", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer \t ", "", false},
		{"Bearerabc", "", false},
		{"Basic abc", "", false},
		{"", "", false},
		{" Bearer abc", "", false},
		{"Bear", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			tok, ok := bearerToken(tt.header)
			if tok != tt.token || ok != tt.ok {
				t.Fatalf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, tok, ok, tt.token, tt.ok)
			}
		})
	}
}
