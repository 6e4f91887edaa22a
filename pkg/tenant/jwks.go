package tenant

import "net/http"

// serveJWKS publishes the public halves of the signing key, the key it replaced, a staged next key and the P-256
// key, each with its self-signed certificate (x5c, x5t) as Auth0 publishes them.
func (t *Tenant) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: t.keys.jwks()}
	w.Header().Set("Cache-Control", "public, max-age=15")
	writeJSON(w, http.StatusOK, set)
}
