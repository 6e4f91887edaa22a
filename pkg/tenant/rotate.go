package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
)

// maxRotateBytes bounds a /dev/rotate body, which is at most {"prepublish":true}.
const maxRotateBytes = 4 << 10

// RotateRequest is the /dev/rotate body; an empty body is the zero value. Prepublish stages a new key: published
// in the JWKS at once but signing only after the next plain rotation, as Auth0 rotates. A plain rotation makes
// the staged key (or, with none staged, a new key) the signing key.
type RotateRequest struct {
	Prepublish bool `json:"prepublish,omitempty"`
}

// rotateAnswer is /dev/rotate's body: the signing kid after the call, every kid the JWKS now publishes, and the
// staged kid if there is one.
type rotateAnswer struct {
	Kid       string   `json:"kid"`
	Published []string `json:"published"`
	Next      string   `json:"next,omitempty"`
}

// serveRotate rotates or pre-publishes as the body asks. The JWKS then holds at most the previous signing key,
// the current one and a staged next key (and the P-256 key, which is never rotated).
func (t *Tenant) serveRotate(w http.ResponseWriter, r *http.Request) {
	req, oerr := readRotate(w, r)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	change, msg := t.keys.rotate, "rotated signing key"
	if req.Prepublish {
		change, msg = t.keys.prepublish, "staged next signing key"
	}
	k, err := change()
	if err != nil {
		t.log.Error("rotate keys", "error", err)
		writeError(w, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not rotate keys: " + err.Error()})
		return
	}
	t.log.Info(msg, "kid", k.kid)
	var answer rotateAnswer
	answer.Kid, answer.Published, answer.Next = t.keys.status()
	writeJSON(w, http.StatusOK, answer)
}

// readRotate reads an optional JSON RotateRequest; like /dev/mint it refuses unknown fields so a typo such as
// "prepublished" is an error, not a silent plain rotation. An empty body is a plain rotation whatever its
// Content-Type, as before bodies were read (curl -d with an empty string sends a form type).
func readRotate(w http.ResponseWriter, r *http.Request) (RotateRequest, *oauthError) {
	var req RotateRequest
	body, oerr := readBody(w, r, maxRotateBytes)
	if oerr != nil {
		return req, oerr
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return req, &oauthError{status: http.StatusUnsupportedMediaType, code: "invalid_request", description: "Content-Type must be application/json"}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, errInvalidRequest(`body must be empty, {} or {"prepublish":true}: ` + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, errInvalidRequest("body has data after its JSON object")
	}
	return req, nil
}

// Rotate makes the staged key, or a new one, the signing key, as a plain POST /dev/rotate does, and returns its
// kid.
func (t *Tenant) Rotate() (string, error) {
	k, err := t.keys.rotate()
	return k.kid, err
}

// PrepublishKey stages a next key, as POST /dev/rotate {"prepublish":true} does, and returns its kid; the key is
// in the JWKS at once and signs after the next Rotate. With a key already staged it returns that one.
func (t *Tenant) PrepublishKey() (string, error) {
	k, err := t.keys.prepublish()
	return k.kid, err
}
