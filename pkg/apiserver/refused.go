package apiserver

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/internal/promreg"
)

// net/http answers some requests itself, before any handler runs: a malformed request line or header (400),
// headers over the limit (431), an unsupported Transfer-Encoding (501) or protocol version (505). It writes those
// answers straight to the connection, so the router's access log and metrics never see them. refusalWatcher
// recognises them on the way out and logs and counts each one.
//
// The recognition is exact: net/http writes such an answer in one Write, as the status line followed by exactly
// these headers. A response from a handler never looks like that, because net/http sorts response headers
// (Connection before Content-Type) and always adds Date.
var (
	refusalHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")
	statusPrefix   = []byte("HTTP/1.")
)

// refusalWatcher logs and counts net/http's own refusals on the connections of one listener.
type refusalWatcher struct {
	log     *slog.Logger
	refused *prometheus.CounterVec
}

func newRefusalWatcher(log *slog.Logger, reg prometheus.Registerer) *refusalWatcher {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "tokencheck",
		Subsystem: "http",
		Name:      "refused_total",
		Help: "Requests net/http answered itself before routing (malformed, oversized headers, unsupported " +
			"transfer encoding or protocol version), by status code.",
	}, []string{"status"})
	if reg != nil {
		if shared, err := promreg.Register(reg, c); err == nil {
			c = shared
		}
	}
	return &refusalWatcher{log: log, refused: c}
}

// listen wraps ln so that every accepted connection reports net/http's refusals.
func (w *refusalWatcher) listen(ln net.Listener) net.Listener {
	return &watchListener{Listener: ln, w: w}
}

// seen records one refusal; the remote address is all that is logged of the request, which may hold a token.
func (w *refusalWatcher) seen(status int, remote net.Addr) {
	w.refused.WithLabelValues(strconv.Itoa(status)).Inc()
	w.log.LogAttrs(context.Background(), slog.LevelWarn, "request refused before routing",
		slog.Int("status", status),
		slog.String("remote", remote.String()),
	)
}

// refusalStatus returns the status code of b if b is one of net/http's own refusals, else 0.
func refusalStatus(b []byte) int {
	// "HTTP/1.1 505 HTTP Version Not Supported" + refusalHeaders + body
	if !bytes.HasPrefix(b, statusPrefix) || len(b) < len("HTTP/1.1 400 ") {
		return 0
	}
	line := bytes.IndexByte(b, '\r')
	if line < 0 || !bytes.HasPrefix(b[line:], refusalHeaders) {
		return 0
	}
	code, err := strconv.Atoi(string(b[9:12]))
	if err != nil || b[12] != ' ' || code < 400 || code > 599 {
		return 0
	}
	return code
}

type watchListener struct {
	net.Listener
	w *refusalWatcher
}

// Accept wraps each connection.
func (l *watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err //nolint:wrapcheck // net/http inspects Accept errors as they are
	}
	return &watchConn{Conn: c, w: l.w}, nil
}

// watchConn looks at what net/http writes; the check is a prefix comparison on each write of a response.
type watchConn struct {
	net.Conn
	w *refusalWatcher
}

// Write passes b on and records it if it is one of net/http's own refusals.
func (c *watchConn) Write(b []byte) (int, error) {
	if status := refusalStatus(b); status != 0 {
		c.w.seen(status, c.RemoteAddr())
	}
	return c.Conn.Write(b) //nolint:wrapcheck // net/http inspects connection errors as they are
}

// CloseWrite half-closes the connection when the underlying one can, as net/http expects (see limitConn).
func (c *watchConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
