package serverconfig

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
)

func TestLogLevel(t *testing.T) {
	tests := []struct {
		env  string
		want slog.Level
		bad  bool
	}{
		{env: "", want: slog.LevelInfo},
		{env: "debug", want: slog.LevelDebug},
		{env: "INFO", want: slog.LevelInfo},
		{env: "warn", want: slog.LevelWarn},
		{env: "error", want: slog.LevelError},
		{env: "info+2", bad: true},
		{env: "verbose", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			env := map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "api", EnvLogLevel: tt.env}
			cfg, err := Load(nil, WithDotEnv(""), WithGetenv(func(k string) string { return env[k] }))
			if tt.bad {
				var cerr *Error
				if !errors.As(err, &cerr) || !slices.Equal(cerr.Variables(), []string{EnvLogLevel}) {
					t.Fatalf("err = %v, want one LOG_LEVEL problem", err)
				}
				return
			}
			if err != nil || cfg.LogLevel != tt.want {
				t.Fatalf("LogLevel = %v (%v), want %v", cfg.LogLevel, err, tt.want)
			}
		})
	}
	if !slices.Contains(Variables(), EnvLogLevel) || !slices.Contains(Variables(), EnvPort) {
		t.Errorf("Variables() = %v", Variables())
	}
}
