package tenant

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims is what varies between the access tokens the tenant issues.
type tokenClaims struct {
	sub, aud, azp, gty string
	scopes             []string
	extra              map[string]any // set last: a user login's aud list and sid
}

// issue signs an Auth0-shaped access token. An empty scope list leaves the scope claim out, as Auth0 does for a
// grant without scopes.
func (t *Tenant) issue(c tokenClaims) (tokenResponse, *oauthError) {
	claims := t.baseClaims()
	claims["sub"], claims["aud"], claims["azp"] = c.sub, c.aud, c.azp
	if c.gty != "" {
		claims["gty"] = c.gty
	}
	scope := strings.Join(c.scopes, " ")
	if scope != "" {
		claims["scope"] = scope
	}
	override(claims, c.extra)
	k := t.keys.current()
	tok, err := sign(k, map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.kid}, claims)
	if err != nil {
		t.log.Error("sign token", "error", err)
		return tokenResponse{}, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign the token"}
	}
	return tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(t.ttl.Seconds()), Scope: scope}, nil
}

// baseClaims are the claims every token starts with: iss, iat, exp (token_ttl) and a fresh jti.
func (t *Tenant) baseClaims() map[string]any {
	now := t.now()
	return map[string]any{
		"iss": t.issuer,
		"iat": now.Unix(),
		"exp": now.Add(t.ttl).Unix(),
		"jti": newID(16),
	}
}

// sign writes header and claims exactly as given and signs them RS256 with k: the header's text (even its alg)
// never chooses how the token is signed.
func sign(k signingKey, header, claims map[string]any) (string, error) {
	return signWith(jwt.SigningMethodRS256, k.priv, k.kid, header, claims)
}

// signWith writes header and claims exactly as given and signs them with method and priv (named kid in errors):
// the caller chose both, never the header's text.
func signWith(method jwt.SigningMethod, priv any, kid string, header, claims map[string]any) (string, error) {
	tok := &jwt.Token{Header: header, Claims: jwt.MapClaims(claims), Method: method}
	s, err := tok.SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("sign %s with key %s: %w", method.Alg(), kid, err)
	}
	return s, nil
}

// newID is n random bytes in hex: jti values and device codes.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
