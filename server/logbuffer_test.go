package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type countingWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.b.Write(p)
}

func (w *countingWriter) state() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String(), w.writes
}

func TestLogBuffer(t *testing.T) {
	w := &countingWriter{}
	b := newLogBuffer(w, time.Hour)
	var want strings.Builder
	for i := range 1000 {
		line := strings.Repeat("x", i%300) + "\n"
		want.WriteString(line)
		if n, err := b.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	big := strings.Repeat("y", 2*logBufferBytes) + "\n"
	want.WriteString(big)
	_, _ = b.Write([]byte(big))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got, writes := w.state()
	if got != want.String() {
		t.Fatal("lines lost, altered or reordered")
	}
	if writes > 10 {
		t.Errorf("%d writes for ~160 KiB of lines, want a handful", writes)
	}
	_, _ = b.Write([]byte("after close\n"))
	if got, _ := w.state(); !strings.HasSuffix(got, "after close\n") {
		t.Error("a write after Close was not passed through")
	}
	_ = b.Close()
}

func TestLogBufferFlushesOnTime(t *testing.T) {
	w := &countingWriter{}
	b := newLogBuffer(w, 10*time.Millisecond)
	defer b.Close()
	_, _ = b.Write([]byte("line\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := w.state(); got == "line\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a buffered line was never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
