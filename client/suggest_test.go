package main

import (
	"strings"
	"testing"
)

func TestSuggestions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // "" means no suggestion
	}{
		{"command typo", []string{"toke"}, "Did you mean this?\n\ttoken"},
		{"command typo two edits", []string{"tset"}, "Did you mean this?\n\ttest"},
		{"root flag typo", []string{"--hlep"}, "Did you mean this?\n\t--help"},
		{"subcommand flag typo", []string{"token", "--scopes", "x"}, "Did you mean this?\n\t--scope"},
		{"underscore for dash", []string{"token", "--client_id", "x"}, "Did you mean this?\n\t--client-id"},
		{"with a value", []string{"call", "--expct=200", "/x"}, "Did you mean this?\n\t--expect"},
		{"tenant flag", []string{"tenant", "--allowed-host", "x"}, "Did you mean this?\n\t--allowed-hosts"},
		{"load flag", []string{"load", "--duraton", "1s"}, "Did you mean this?\n\t--duration"},
		{"prefix", []string{"load", "--unique", "3"}, "Did you mean this?\n\t--unique-tokens"},
		{"nothing close", []string{"load", "--zzzzzz", "1"}, ""},
		{"nothing close command", []string{"frobnicate"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := tokRun(t, map[string]string{}, tc.args...)
			if code != exitCannotGo {
				t.Fatalf("exit %d, want 2:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "Run 'client --help' for usage.") {
				t.Errorf("no usage pointer:\n%s", stderr)
			}
			if tc.want == "" {
				if strings.Contains(stderr, "Did you mean") {
					t.Fatalf("suggested something:\n%s", stderr)
				}
				return
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr lacks %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"scope", "scope", 0}, {"scopes", "scope", 1}, {"client_id", "client-id", 0},
		{"expct", "expect", 1}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
