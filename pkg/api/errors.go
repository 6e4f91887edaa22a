package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// errorBody is the JSON shape of every error this package writes, matching pkg/auth's error bodies.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Message     string `json:"message"`
}

func writeError(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, errorBody{Error: code, Message: message})
}

func notFound(c *gin.Context) {
	writeError(c, http.StatusNotFound, "not_found", "No such route; see the API's documentation for /api/public, /api/private and /api/private-scoped.")
}

func methodNotAllowed(c *gin.Context) {
	writeError(c, http.StatusMethodNotAllowed, "method_not_allowed",
		"Method "+c.Request.Method+" is not allowed on this route; use "+c.Writer.Header().Get("Allow")+".")
}
