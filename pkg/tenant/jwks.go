package tenant

import "net/http"

// serveJWKS publishes the public halves of the signing key and of the key it replaced.
func (t *Tenant) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	keys := t.keys.published()
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	w.Header().Set("Cache-Control", "public, max-age=15")
	writeJSON(w, http.StatusOK, set)
}
