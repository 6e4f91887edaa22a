package tenant

import (
	"errors"
	"net/http"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// dpopKey checks the DPoP proof of a token request (RFC 9449 §4.3, §5) and returns the thumbprint of its key, which
// the issued tokens are bound to; "" when the request carries no proof (Bearer tokens, as before). The proof's
// htu is the token endpoint as this request reached it, so it works inside and outside a container network.
// use_dpop_nonce is never asked for.
func (t *Tenant) dpopKey(r *http.Request) (string, *oauthError) {
	proof, err := dpop.FromHeader(r.Header)
	if errors.Is(err, dpop.ErrMissing) {
		return "", nil
	}
	if err == nil {
		var p *dpop.Proof
		if p, err = t.dpop.Verify(proof, r.Method, t.baseURL(r)+PathToken[1:], ""); err == nil {
			return p.JKT, nil
		}
	}
	t.log.Warn("DPoP proof refused", "reason", err.Error())
	return "", &oauthError{status: http.StatusBadRequest, code: "invalid_dpop_proof", description: err.Error()}
}
