package tenant

import "net/http"

// serveRotate makes a new signing key; the previous one stays published until the next rotation.
func (t *Tenant) serveRotate(w http.ResponseWriter, _ *http.Request) {
	k, err := t.keys.rotate()
	if err != nil {
		t.log.Error("rotate keys", "error", err)
		writeError(w, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not rotate keys: " + err.Error()})
		return
	}
	t.log.Info("rotated signing key", "kid", k.kid)
	keys := t.keys.published()
	kids := make([]string, 0, len(keys))
	for _, pk := range keys {
		kids = append(kids, pk.kid)
	}
	writeJSON(w, http.StatusOK, map[string]any{"kid": k.kid, "published": kids})
}

// Rotate makes a new signing key, as POST /dev/rotate does, and returns its kid.
func (t *Tenant) Rotate() (string, error) {
	k, err := t.keys.rotate()
	return k.kid, err
}
