package serverconfig

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestLogFlushInterval(t *testing.T) {
	tests := []struct {
		env  string
		want time.Duration
		bad  bool
	}{
		{env: "", want: 0},
		{env: "250ms", want: 250 * time.Millisecond},
		{env: "0", want: -1},
		{env: "0s", want: -1},
		{env: "10s", want: 10 * time.Second},
		{env: "11s", bad: true},
		{env: "-1s", bad: true},
		{env: "soon", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			env := map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "api", EnvLogFlushInterval: tt.env}
			cfg, err := Load(nil, WithDotEnv(""), WithGetenv(func(k string) string { return env[k] }))
			if tt.bad {
				var cerr *Error
				if !errors.As(err, &cerr) || !slices.Equal(cerr.Variables(), []string{EnvLogFlushInterval}) {
					t.Fatalf("err = %v, want one LOG_FLUSH_INTERVAL problem", err)
				}
				return
			}
			if err != nil || cfg.LogFlushInterval != tt.want {
				t.Fatalf("LogFlushInterval = %v (%v), want %v", cfg, err, tt.want)
			}
		})
	}
}
