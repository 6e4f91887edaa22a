package httpcall

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
)

// shownBody is how much of each body the verbose transport prints.
const shownBody = 4 << 10

// Verbose returns a copy of hc whose exchanges are written to w (request line, headers, bodies, status) with every
// token and secret redacted; hc itself is left unchanged.
func Verbose(hc *http.Client, w io.Writer) *http.Client {
	if hc == nil {
		hc = NewClient(0)
	}
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &RedactingTransport{Base: base, Out: w}
	return &c
}

// RedactingTransport prints each exchange it carries to Out, redacted, for --verbose.
type RedactingTransport struct {
	Base http.RoundTripper
	Out  io.Writer

	mu sync.Mutex // keeps the lines of concurrent exchanges together
}

// RoundTrip prints the request, sends it through Base, and prints the response; bodies stay readable by the caller.
func (t *RedactingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "> %s %s %s\n", req.Method, RedactURL(req.URL.String()), req.Proto)
	writeHeaders(&buf, "> ", req.Header)
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(io.LimitReader(req.Body, MaxBody))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body to print it: %w", err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.ContentLength = int64(len(data))
		writeBody(&buf, "> ", req.Header.Get("Content-Type"), data)
	}
	resp, err := t.Base.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(&buf, "! %s\n", RedactText(err.Error()))
		t.flush(&buf)
		return nil, err
	}
	fmt.Fprintf(&buf, "< %s %s\n", resp.Proto, resp.Status)
	writeHeaders(&buf, "< ", resp.Header)
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, shownBody))
	writeBody(&buf, "< ", resp.Header.Get("Content-Type"), data)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), errReader{rerr}, resp.Body), resp.Body}
	t.flush(&buf)
	return resp, nil
}

func (t *RedactingTransport) flush(buf *bytes.Buffer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = t.Out.Write(buf.Bytes())
}

// errReader replays a read error met while peeking at a body, so the caller sees it where it happened.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

func writeHeaders(w io.Writer, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, RedactHeaderValue(k, v))
		}
	}
}

func writeBody(w io.Writer, prefix, contentType string, data []byte) {
	if len(data) == 0 {
		return
	}
	shown := data
	more := ""
	if len(shown) > shownBody {
		shown, more = shown[:shownBody], " …"
	}
	fmt.Fprintf(w, "%s\n%s%s%s\n", prefix, prefix, RedactBody(contentType, shown), more)
}
