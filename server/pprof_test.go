package main

import (
	"io"
	"log/slog"
	"testing"
)

func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:6060", "nonsense"} {
		if err := startPprof(t.Context(), addr, nil); err == nil {
			t.Errorf("%s accepted", addr)
		}
	}
	if err := startPprof(t.Context(), "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Errorf("loopback refused: %v", err)
	}
}
