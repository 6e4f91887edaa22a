package api

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

// recovery turns a handler panic into a 500 JSON answer without echoing the panic, the request or its headers
// (gin's own recovery prints the headers). It should never fire; when it does, the log has the stack.
func recovery(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // net/http's own signal to drop the connection quietly.
			}
			logger.LogAttrs(c.Request.Context(), slog.LevelError, "panic serving request",
				slog.String("request_id", RequestID(c)),
				slog.String("method", c.Request.Method),
				slog.String("route", c.FullPath()),
				slog.Any("panic", v),
				slog.String("stack", string(debug.Stack())),
			)
			if c.Writer.Written() {
				c.Abort()
				return
			}
			writeError(c, http.StatusInternalServerError, "server_error", "The server hit an unexpected error; the request id is in the X-Request-Id header.")
		}()
		c.Next()
	}
}
