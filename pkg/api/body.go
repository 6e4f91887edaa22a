package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// limitBody bounds every request body, so no middleware can be made to buffer an unbounded upload.
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
	}
}
