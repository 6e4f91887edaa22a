package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/pkg/auth"
)

// The quickstart bodies, byte for byte as Auth0's samples and the seed's sample server send them.
const (
	publicMessage   = "Hello from a public endpoint! You don't need to be authenticated to see this."
	privateMessage  = "Hello from a private endpoint! You need to be authenticated to see this."
	pingText        = "All good. You don't need to be authenticated to call this"
	securedPingText = "All good. You only get this message if you're authenticated"
	contentTypeJSON = "application/json; charset=utf-8"
)

var (
	publicBody      = mustJSON(map[string]string{"message": publicMessage})
	privateBody     = mustJSON(map[string]string{"message": privateMessage})
	pingBody        = mustJSON(map[string]string{"text": pingText})
	securedPingBody = mustJSON(map[string]string{"text": securedPingText})
	healthyBody     = mustJSON(map[string]string{"status": "ok"})
	readyBody       = mustJSON(map[string]string{"status": "ready"})
	notReadyBody    = mustJSON(map[string]string{
		"status":  "unavailable",
		"message": "The signing keys have not been loaded yet; check that the issuer's JWKS is reachable.",
	})
)

// scopedBody names the configured scope, so a server requiring another scope does not claim read:messages.
func scopedBody(scope string) []byte {
	return mustJSON(map[string]string{"message": "Hello from a private endpoint! You need to be authenticated and have a scope of " +
		scope + " to see this."})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("api: cannot encode a constant body: " + err.Error())
	}
	return b
}

// contentTypeJSONValue is the Content-Type header value shared by every pre-encoded answer. Its capacity is its
// length, so a later Header.Add copies it instead of writing into it; nothing writes header values in place.
var contentTypeJSONValue = []string{contentTypeJSON}

// jsonBody answers 200 with a body encoded once at start-up, so the hot path does no encoding.
func jsonBody(body []byte) gin.HandlerFunc {
	return func(c *gin.Context) { writeJSON(c, http.StatusOK, body) }
}

// writeJSON answers as c.Data(status, contentTypeJSON, body) does, Content-Type only if none is set yet and the
// write error recorded on c, without c.Data's two allocations per answer (the render value and the header slice).
func writeJSON(c *gin.Context, status int, body []byte) {
	c.Status(status)
	h := c.Writer.Header()
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = contentTypeJSONValue
	}
	if !bodyAllowedForStatus(status) {
		c.Writer.WriteHeaderNow()
		return
	}
	if _, err := c.Writer.Write(body); err != nil {
		_ = c.Error(err)
		c.Abort()
	}
}

// bodyAllowedForStatus is gin's rule (and net/http's): no body for 1xx, 204 and 304.
func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

func healthz(c *gin.Context) { writeJSON(c, http.StatusOK, healthyBody) }

// readyz reports 503 until a key set is loaded, so orchestrators hold traffic that could only get 503s.
func readyz(ready func() bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if ready() {
			writeJSON(c, http.StatusOK, readyBody)
			return
		}
		c.Header("Retry-After", auth.RetryAfter)
		writeJSON(c, http.StatusServiceUnavailable, notReadyBody)
	}
}
