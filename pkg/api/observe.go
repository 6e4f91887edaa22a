package api

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/pkg/auth"
)

const (
	unmatchedRoute = "unmatched"
	maxLoggedPath  = 256
	// maxAccessAttrs is the most attributes an access log line has: eight of ours, five of pkg/auth's.
	maxAccessAttrs = 13
)

// observe records each request in the metrics and the access log once it has been answered. It logs the path
// without its query (an access_token may hide there) and never the Authorization header.
//
// The line goes straight to the logger's handler, as Logger.LogAttrs would send it, but with no caller PC: finding
// the caller (runtime.Callers) was a measurable share of each request, and the only use of it, a handler with
// AddSource, would name this closure on every line. The record's time is the end of the request, which the
// duration already needs, rather than a second clock read.
func observe(logger *slog.Logger, m *metrics) gin.HandlerFunc {
	h := logger.Handler()
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		end := time.Now()
		elapsed := end.Sub(start)

		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		status := c.Writer.Status()
		method := methodLabel(c.Request.Method)
		m.observe(route, method, status, elapsed)

		level := accessLevel(route, status)
		ctx := c.Request.Context()
		if !h.Enabled(ctx, level) {
			return
		}
		path := c.Request.URL.Path
		if len(path) > maxLoggedPath {
			path = path[:maxLoggedPath]
		}
		var buf [maxAccessAttrs]slog.Attr
		attrs := append(buf[:0],
			slog.String("method", method),
			slog.String("route", route),
			slog.String("path", path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("request_id", RequestID(c)),
			slog.String("remote", c.ClientIP()),
		)
		attrs = auth.AppendLogAttrs(attrs, c)
		r := slog.NewRecord(end, level, "request", 0)
		r.AddAttrs(attrs...)
		_ = h.Handle(ctx, r)
	}
}

// probeRoutes are polled by orchestrators and scrapers every few seconds: their lines would bury the requests
// people read logs for, so they are logged at debug (LOG_LEVEL=debug shows them), a 503 from /readyz included,
// which only says the key set is not loaded yet (that failure is logged on its own).
var probeRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// accessLevel is the level of a request's access line.
func accessLevel(route string, status int) slog.Level {
	switch {
	case probeRoutes[route]:
		return slog.LevelDebug
	case status >= 500:
		return slog.LevelError
	}
	return slog.LevelInfo
}
