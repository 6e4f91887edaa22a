package httpcall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxBody is how much of a response body Do keeps; the rest is discarded so a hostile or broken server cannot
// exhaust memory.
const MaxBody = 1 << 20

// Request is one HTTP request to make; a nil Body sends none.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Response is what came back, with the body already read (at most MaxBody bytes) and the connection released.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Truncated reports that the body was longer than MaxBody and only its start is in Body.
	Truncated bool
	// Duration is the time from sending the request to reading the (bounded) body.
	Duration time.Duration
}

// StatusLine is the status as users read it, e.g. "401 Unauthorized".
func (r *Response) StatusLine() string {
	if text := http.StatusText(r.Status); text != "" {
		return fmt.Sprintf("%d %s", r.Status, text)
	}
	return fmt.Sprintf("%d", r.Status)
}

// Do sends req with hc (NewClient's client when nil) and reads at most MaxBody bytes of the answer. Transport
// failures (refused, timeout, DNS) come back as errors; any HTTP status, including 3xx, 4xx and 5xx, is a Response.
func Do(ctx context.Context, hc *http.Client, req Request) (*Response, error) {
	if hc == nil {
		hc = NewClient(0)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, req.URL, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if host := hreq.Header.Get("Host"); host != "" {
		hreq.Host = host
	}
	start := time.Now()
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s %s: read response body: %w", method, req.URL, err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if len(data) > MaxBody {
		out.Body, out.Truncated = data[:MaxBody], true
	}
	out.Duration = time.Since(start)
	return out, nil
}
