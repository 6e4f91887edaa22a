package tenant

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// oauthError is an RFC 6749 §5.2 error response: its status, error code and a description saying what to fix.
type oauthError struct {
	status      int
	code        string
	description string
	retryAfter  int // seconds; 0 omits Retry-After
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: desc}
}

func errInvalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: desc}
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers e as RFC 6749 JSON. A 401 carries a Basic challenge, as RFC 6749 §5.2 asks when the client
// tried HTTP Basic and RFC 9110 asks of every 401.
func writeError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="tenant", charset="UTF-8"`)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// noStore marks a response that carries tokens or codes as never cacheable (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
