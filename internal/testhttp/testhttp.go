// Package testhttp holds HTTP test helpers shared by several packages' tests: a log sink safe for concurrent
// handlers and a raw request writer for bytes net/http's client refuses to send.
package testhttp

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// SyncBuffer collects output written by concurrent goroutines (a server's log, say) for a test to read.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p under the lock.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// RawGet writes "GET path" with one extra header line straight onto a TCP connection to addr (host:port), so a
// test can send what http.Client would refuse (control bytes, odd spacing), and returns the status code.
// Everything is bounded by a 5 s deadline.
func RawGet(tb testing.TB, addr, path, headerLine string) int {
	tb.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(tb.Context(), "tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\n"+headerLine+"\r\nConnection: close\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// Send makes one request to url with header (every value added) and body ("" sends none) and returns the response
// with its whole body read, failing tb on a transport error.
func Send(tb testing.TB, method, url string, header http.Header, body string) (*http.Response, []byte) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read the answer of %s %s: %v", method, url, err)
	}
	return resp, raw
}
