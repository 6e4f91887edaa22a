package main

import (
	"io"
	"sync"
	"time"
)

// logBufferBytes is how much log output is held before it is written early; about 250 access log lines.
const logBufferBytes = 64 << 10

// logBuffer batches the JSON log on its way to stdout: a write (one whole line, as slog writes) is appended to a
// buffer that goes out in one write when it would overflow, every interval, and on Close. Without it every access
// log line cost a write system call of its own, about as much as the rest of the access log together. Lines keep
// their order and their bytes; they are at most interval late, and lost only if the process is killed before a
// flush (Close runs on every normal exit).
type logBuffer struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

func newLogBuffer(w io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{w: w, buf: make([]byte, 0, logBufferBytes), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

// Write buffers p, writing out what is buffered first if p would not fit; p itself is written at once if it is
// larger than the whole buffer or the buffer is closed.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	if b.closed || len(p) > cap(b.buf) {
		return b.w.Write(p) //nolint:wrapcheck // the writer's own error, as an unbuffered log would get it
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *logBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err //nolint:wrapcheck // as above
}

func (b *logBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.flushLocked()
}

func (b *logBuffer) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.flush()
		}
	}
}

// Close writes out what is buffered and makes later writes go straight through; it is safe to call twice.
func (b *logBuffer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	err := b.flushLocked()
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	return err
}
