package api

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/pkg/auth"
)

const (
	unmatchedRoute = "unmatched"
	maxLoggedPath  = 256
)

// observe records each request in the metrics and the access log once it has been answered. It logs the path
// without its query (an access_token may hide there) and never the Authorization header.
func observe(logger *slog.Logger, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)

		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		status := c.Writer.Status()
		method := methodLabel(c.Request.Method)
		m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())

		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		ctx := c.Request.Context()
		if !logger.Enabled(ctx, level) {
			return
		}
		path := c.Request.URL.Path
		if len(path) > maxLoggedPath {
			path = path[:maxLoggedPath]
		}
		attrs := append(make([]slog.Attr, 0, 12),
			slog.String("method", method),
			slog.String("route", route),
			slog.String("path", path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("request_id", RequestID(c)),
			slog.String("remote", c.ClientIP()),
		)
		attrs = append(attrs, auth.LogAttrs(c)...)
		logger.LogAttrs(ctx, level, "request", attrs...)
	}
}
