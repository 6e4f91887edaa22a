package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxMintBytes bounds a /dev/mint body; tests build odd tokens, not huge ones.
const maxMintBytes = 256 << 10

// MintRequest is the /dev/mint body: values override a normal token's header and claims, and JSON null removes
// one. Signing is always RS256 with the current key whatever the header says.
type MintRequest struct {
	Header map[string]any `json:"header,omitempty"`
	Claims map[string]any `json:"claims,omitempty"`
}

// serveMint signs any header and claims a test asks for, starting from a normal machine token for the first API:
// sub dev-mint@clients, azp dev-mint, gty client-credentials, aud the first API, scope all of its scopes.
func (t *Tenant) serveMint(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	req, oerr := readMint(w, r)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	k := t.keys.current()
	header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.kid}
	claims := t.baseClaims()
	claims["sub"], claims["azp"], claims["gty"] = "dev-mint@clients", "dev-mint", "client-credentials"
	claims["aud"] = t.apiOrder[0].Audience
	if scope := strings.Join(t.apiOrder[0].Scopes, " "); scope != "" {
		claims["scope"] = scope
	}
	override(header, req.Header)
	override(claims, req.Claims)
	tok, err := sign(k, header, claims)
	if err != nil {
		t.log.Error("mint token", "error", err)
		writeError(w, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign the token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "token_type": "Bearer", "kid": k.kid})
}

// override applies given values onto base; a nil value (JSON null) removes the key.
func override(base, given map[string]any) {
	for k, v := range given {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
}

func readMint(w http.ResponseWriter, r *http.Request) (MintRequest, *oauthError) {
	var req MintRequest
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return req, &oauthError{status: http.StatusUnsupportedMediaType, code: "invalid_request", description: "Content-Type must be application/json"}
		}
	}
	body, oerr := readBody(w, r, maxMintBytes)
	if oerr != nil {
		return req, oerr
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil // no overrides: a normal token
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep numbers such as exp exactly as given
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, errInvalidRequest(`body must be {"header":{...},"claims":{...}}: ` + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, errInvalidRequest("body has data after its JSON object")
	}
	return req, nil
}
