package auth

import "testing"

func TestHasScope(t *testing.T) {
	tests := []struct {
		name   string
		claims Claims
		scope  string
		want   bool
	}{
		{"only scope", Claims{Scope: "read:messages"}, "read:messages", true},
		{"among scopes", Claims{Scope: "openid read:messages write:messages"}, "read:messages", true},
		{"last scope", Claims{Scope: "openid read:messages"}, "read:messages", true},
		{"permissions", Claims{Permissions: []string{"write:messages", "read:messages"}}, "read:messages", true},
		{"substring of scope", Claims{Scope: "read:messages:all"}, "read:messages", false},
		{"prefix of scope", Claims{Scope: "read"}, "read:messages", false},
		{"scope contains requested as part", Claims{Scope: "xread:messages"}, "read:messages", false},
		{"substring of permission", Claims{Permissions: []string{"read:messages2"}}, "read:messages", false},
		{"case differs", Claims{Scope: "READ:MESSAGES"}, "read:messages", false},
		{"double spaces", Claims{Scope: "a  read:messages "}, "read:messages", true},
		{"empty claims", Claims{}, "read:messages", false},
		{"empty scope asked", Claims{Scope: "a  b"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.claims.HasScope(tt.scope); got != tt.want {
				t.Fatalf("HasScope(%q) = %v, want %v", tt.scope, got, tt.want)
			}
		})
	}
}
