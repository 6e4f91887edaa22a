package api

import (
	"log/slog"
	"testing"
)

func TestAccessLevel(t *testing.T) {
	tests := []struct {
		route  string
		status int
		want   slog.Level
	}{
		{"/api/private", 200, slog.LevelInfo},
		{"/api/private", 401, slog.LevelInfo},
		{"/api/private", 500, slog.LevelError},
		{"/healthz", 200, slog.LevelDebug},
		{"/readyz", 503, slog.LevelDebug}, // not ready yet: the key set's own failure is logged elsewhere
		{"/metrics", 200, slog.LevelDebug},
		{unmatchedRoute, 404, slog.LevelInfo},
	}
	for _, tt := range tests {
		if got := accessLevel(tt.route, tt.status); got != tt.want {
			t.Errorf("accessLevel(%s, %d) = %v, want %v", tt.route, tt.status, got, tt.want)
		}
	}
}
