package tenant

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// ownTokenLeeway is the clock leeway /userinfo and id_token_hint checks allow on the tenant's own tokens.
const ownTokenLeeway = 30 * time.Second

// serveUserinfo is OIDC Core §5.3: the signed-in user's claims for an access token carrying openid, verified with
// the tenant's own published keys. A token whose login was revoked (its sid) is refused like an invalid one.
func (t *Tenant) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	isDPoP := strings.EqualFold(scheme, "DPoP")
	if (!strings.EqualFold(scheme, "Bearer") && !isDPoP) || tok == "" {
		bearerError(w, http.StatusUnauthorized, "", "")
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, t.ownKey, jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(t.issuer), jwt.WithAudience(t.userinfoAudience()), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(ownTokenLeeway))
	if err != nil {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is not valid here: "+err.Error())
		return
	}
	if msg := t.checkBinding(r, isDPoP, tok, claims); msg != "" {
		t.dpopError(w, msg)
		return
	}
	scope, _ := claims["scope"].(string)
	if !slices.Contains(strings.Fields(scope), "openid") {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "the access token was not issued with the openid scope")
		return
	}
	sid, _ := claims["sid"].(string)
	if !t.grants.active(t.now(), sid) {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the login this token belongs to was revoked or has ended; sign in again")
		return
	}
	sub, _ := claims["sub"].(string)
	name, _ := strings.CutPrefix(sub, "auth0|")
	u, ok := t.users[name]
	if !ok {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the token's subject is not a user of this tenant")
		return
	}
	out := map[string]any{"sub": sub}
	for k, v := range userClaims(u, strings.Fields(scope)) {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
}

// checkBinding is RFC 9449 §7.1 at /userinfo: a DPoP-bound token (cnf.jkt) is accepted only with the DPoP scheme
// and a proof for this request (method, URL, ath) made by the bound key, never as a Bearer token, or whoever holds a
// copy could use it without the key; an unbound token does not come with the DPoP scheme. "" when it is fine.
func (t *Tenant) checkBinding(r *http.Request, isDPoP bool, tok string, claims jwt.MapClaims) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	switch {
	case !isDPoP && jkt == "":
		return ""
	case !isDPoP:
		return "the access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof (RFC 9449 §7.1)"
	case jkt == "":
		return "the access token is not DPoP-bound: send it as Authorization: Bearer"
	}
	proof, err := dpop.FromHeader(r.Header)
	if err == nil {
		var p *dpop.Proof
		if p, err = t.dpop.Verify(proof, r.Method, t.baseURL(r)+PathUserinfo[1:], tok); err == nil {
			if p.JKT == jkt {
				return ""
			}
			err = errors.New("the DPoP proof is not made with the key the access token is bound to")
		}
	}
	return "DPoP proof refused: " + err.Error()
}

// dpopError answers a refused DPoP-bound (or wrongly presented) token with a DPoP challenge (RFC 9449 §7.1).
func (t *Tenant) dpopError(w http.ResponseWriter, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`DPoP algs=%q, error="invalid_token", error_description=%q`,
		strings.Join(t.dpop.Algs(), " "), strings.ReplaceAll(desc, `"`, "'")))
	w.Header().Add("WWW-Authenticate", `Bearer realm="tenant"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
}

// ownKey finds the public key of a token the tenant signed, by kid among the keys it publishes; the header's alg
// is checked by the parser's allow-list, never used to choose a key.
func (t *Tenant) ownKey(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	for _, k := range t.keys.published() {
		if k.kid == kid {
			return &k.priv.PublicKey, nil
		}
	}
	return nil, fmt.Errorf("kid %q is not one of this tenant's keys", truncate(kid, 100))
}

// errNotOwnToken marks an id_token_hint the tenant did not issue.
var errNotOwnToken = errors.New("not an ID token from this tenant")

// parseIDTokenHint checks that hint is an ID token this tenant signed, for logout; an expired one is still a good
// hint (OIDC RP-Initiated Logout §2), so only the signature, iss and that it is an ID token are checked.
func (t *Tenant) parseIDTokenHint(hint string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(hint, claims, t.ownKey, jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(t.issuer), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotOwnToken, err)
	}
	if iss, _ := claims["iss"].(string); iss != t.issuer {
		return nil, fmt.Errorf("%w: iss %q", errNotOwnToken, truncate(iss, 200))
	}
	// The tenant's access tokens are signed by the same keys and carry the same sid, and every API they are sent
	// to holds them: only an ID token, whose aud is the one client it was issued to and which has no scope, may end
	// a login.
	aud, _ := claims["aud"].(string)
	if _, isClient := t.clients[aud]; !isClient || claims["scope"] != nil {
		return nil, fmt.Errorf("%w: an access token, not an ID token", errNotOwnToken)
	}
	return claims, nil
}

// bearerError answers an RFC 6750 §3 error with its challenge; code "" is the bare challenge for a missing token.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	ch := `Bearer realm="tenant"`
	if code != "" {
		ch += fmt.Sprintf(`, error=%q, error_description=%q`, code, strings.ReplaceAll(desc, `"`, "'"))
	}
	w.Header().Set("WWW-Authenticate", ch)
	body := map[string]string{"error": code, "error_description": desc}
	if code == "" {
		body = map[string]string{"error": "invalid_request", "error_description": "a Bearer access token is required"}
	}
	writeJSON(w, status, body)
}
