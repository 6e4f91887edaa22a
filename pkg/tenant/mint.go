package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// maxMintBytes bounds a /dev/mint body; tests build odd tokens, not huge ones.
const maxMintBytes = 256 << 10

// MintRequest is the /dev/mint body. Alg chooses how the token is signed: RS256 (the default), RS384, RS512,
// PS256, PS384 or PS512 with the current RSA key, or ES256 with the P-256 key of a tenant run with an EC key. Header
// and Claims override a normal token's header and claims, and JSON null removes an entry. The header starts with
// the alg and kid really used, but may be made to say anything (forgeries): signing follows Alg, never the header.
// SetNull names header and claim entries to write as JSON null, which a null in Header or Claims cannot say (it
// removes): a "kid": null header, for one.
type MintRequest struct {
	Alg     string         `json:"alg,omitempty"`
	Header  map[string]any `json:"header,omitempty"`
	Claims  map[string]any `json:"claims,omitempty"`
	SetNull MintNulls      `json:"set_null,omitzero"`
}

// MintNulls lists the entries /dev/mint writes as JSON null.
type MintNulls struct {
	Header []string `json:"header,omitempty"`
	Claims []string `json:"claims,omitempty"`
}

// mintMethods are the algorithms /dev/mint signs with, in the order its errors list them. ES256 needs the P-256
// key (Options.ECKey); the others use the current RSA key.
var mintMethods = []jwt.SigningMethod{
	jwt.SigningMethodRS256, jwt.SigningMethodRS384, jwt.SigningMethodRS512,
	jwt.SigningMethodPS256, jwt.SigningMethodPS384, jwt.SigningMethodPS512,
	jwt.SigningMethodES256,
}

// mintAnswer is /dev/mint's success body: alg and kid say how the token was really signed, whatever its header says.
type mintAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Alg         string `json:"alg"`
	Kid         string `json:"kid"`
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
	signer, oerr := t.signerFor(req.Alg)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	header := map[string]any{"alg": signer.alg, "typ": "JWT", "kid": signer.kid}
	claims := t.baseClaims()
	claims["sub"], claims["azp"], claims["gty"] = "dev-mint@clients", "dev-mint", "client-credentials"
	claims["aud"] = t.apiOrder[0].Audience
	if scope := strings.Join(t.apiOrder[0].Scopes, " "); scope != "" {
		claims["scope"] = scope
	}
	override(header, req.Header)
	override(claims, req.Claims)
	for _, k := range req.SetNull.Header {
		header[k] = nil
	}
	for _, k := range req.SetNull.Claims {
		claims[k] = nil
	}
	tok, err := signWith(signer.method, signer.priv, signer.kid, header, claims)
	if err != nil {
		t.log.Error("mint token", "error", err)
		writeError(w, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign the token"})
		return
	}
	writeJSON(w, http.StatusOK, mintAnswer{AccessToken: tok, TokenType: "Bearer", Alg: signer.alg, Kid: signer.kid})
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
		return req, errInvalidRequest(`body must be {"alg":"RS256","header":{...},"claims":{...}}: ` + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, errInvalidRequest("body has data after its JSON object")
	}
	return req, nil
}

// mintSigner is how one /dev/mint token is really signed.
type mintSigner struct {
	alg    string
	method jwt.SigningMethod
	priv   any // *rsa.PrivateKey or *ecdsa.PrivateKey, as method needs
	kid    string
}

// signerFor resolves a MintRequest's alg ("" is RS256) to its method and the key that signs it.
func (t *Tenant) signerFor(alg string) (mintSigner, *oauthError) {
	if alg == "" {
		alg = jwt.SigningMethodRS256.Alg()
	}
	i := slices.IndexFunc(mintMethods, func(m jwt.SigningMethod) bool { return m.Alg() == alg })
	if i < 0 {
		names := make([]string, 0, len(mintMethods))
		for _, m := range mintMethods {
			names = append(names, m.Alg())
		}
		return mintSigner{}, errInvalidRequest(fmt.Sprintf("alg %q is not supported; use one of %s (case-sensitive, RFC 7518)",
			alg, strings.Join(names, ", ")))
	}
	method := mintMethods[i]
	if method == jwt.SigningMethodES256 {
		ec, ok := t.keys.ec()
		if !ok {
			// Whoever reads this HTTP answer has no Go error to add a hint to, so the starting program's hint rides
			// in it.
			if t.hints.ECKey != "" {
				return mintSigner{}, errInvalidRequest("alg ES256 needs the tenant's P-256 key: " + t.hints.ECKey)
			}
			return mintSigner{}, errInvalidRequest("alg ES256 needs the tenant's P-256 key, which this tenant was started without")
		}
		return mintSigner{alg: alg, method: method, priv: ec.priv, kid: ec.kid}, nil
	}
	k := t.keys.current()
	return mintSigner{alg: alg, method: method, priv: k.priv, kid: k.kid}, nil
}
