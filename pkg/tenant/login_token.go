package tenant

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
)

// PathUserinfo is where /userinfo is served and, under the issuer, the audience a user's access token names so
// /userinfo accepts it (as Auth0's https://<tenant>/userinfo).
const PathUserinfo = "/userinfo"

// userinfoAudience is the aud that makes an access token good at /userinfo.
func (t *Tenant) userinfoAudience() string { return t.issuer + PathUserinfo[1:] }

// authorizationCodeGrant is /oauth/token with grant_type authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5).
func (t *Tenant) authorizationCodeGrant(c Client, p map[string]string) (tokenResponse, *oauthError) {
	code := p["code"]
	if code == "" {
		return tokenResponse{}, errInvalidRequest("code is required")
	}
	if p["redirect_uri"] == "" {
		return tokenResponse{}, errInvalidRequest("redirect_uri is required: the one sent to /authorize")
	}
	g, fam, refresh, oerr := t.grants.redeem(t.now(), code, c.ID, p["redirect_uri"], p["code_verifier"])
	if oerr != nil {
		t.log.Warn("authorization code refused", "client", c.ID, "reason", oerr.description)
		return tokenResponse{}, oerr
	}
	return t.issueLogin(g, fam, refresh)
}

// refreshTokenGrant is /oauth/token with grant_type refresh_token (RFC 6749 §6), rotating the refresh token. A
// scope narrows this one response to some of the scopes first granted.
func (t *Tenant) refreshTokenGrant(c Client, p map[string]string) (tokenResponse, *oauthError) {
	tok := p["refresh_token"]
	if tok == "" {
		return tokenResponse{}, errInvalidRequest("refresh_token is required")
	}
	g, fam, next, oerr := t.grants.rotate(t.now(), tok, c.ID, strings.Fields(p["scope"]))
	if oerr != nil {
		t.log.Warn("refresh token refused", "client", c.ID, "reason", oerr.description)
		return tokenResponse{}, oerr
	}
	return t.issueLogin(g, fam, next)
}

// issueLogin signs a user's access token and, with openid, an ID token. The access token is Auth0's: with an
// audience a JWT for that API whose scope is the requested API scopes the user has plus the OIDC scopes asked for,
// and whose aud also names /userinfo when openid was asked; without an audience it is good only at /userinfo.
// Both tokens carry sid, the family, so revoking it (code reuse, refresh token reuse, logout) stops /userinfo
// accepting them.
func (t *Tenant) issueLogin(g grant, familyID, refresh string) (tokenResponse, *oauthError) {
	u, ok := t.users[g.username]
	if !ok {
		return tokenResponse{}, errInvalidGrant("the user no longer exists")
	}
	var scopes []string
	for _, s := range g.scopes {
		if slices.Contains(oidcScopes, s) || (g.audience != "" && slices.Contains(u.Scopes[g.audience], s)) {
			scopes = append(scopes, s)
		}
	}
	var aud any = t.userinfoAudience()
	if g.audience != "" {
		aud = g.audience
		if g.has("openid") {
			aud = []string{g.audience, t.userinfoAudience()}
		}
	}
	resp, oerr := t.issue(tokenClaims{sub: "auth0|" + u.Username, azp: g.clientID, scopes: scopes,
		extra: map[string]any{"aud": aud, "sid": familyID}})
	if oerr != nil {
		return tokenResponse{}, oerr
	}
	resp.RefreshToken = refresh
	if !g.has("openid") {
		return resp, nil
	}
	if resp.IDToken, oerr = t.idToken(g, u, familyID, resp.AccessToken); oerr != nil {
		return tokenResponse{}, oerr
	}
	return resp, nil
}

// idToken is OIDC Core §2's ID token for the client, with the profile and email claims the scopes allow and
// at_hash binding it to the access token issued beside it (§3.1.3.6).
func (t *Tenant) idToken(g grant, u User, familyID, accessToken string) (string, *oauthError) {
	claims := t.baseClaims()
	delete(claims, "jti")
	claims["sub"], claims["aud"], claims["azp"] = "auth0|"+u.Username, g.clientID, g.clientID
	claims["auth_time"], claims["sid"], claims["at_hash"] = g.authTime.Unix(), familyID, atHash(accessToken)
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range userClaims(u, g.scopes) {
		claims[k] = v
	}
	k := t.keys.current()
	tok, err := sign(k, map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.kid}, claims)
	if err != nil {
		t.log.Error("sign ID token", "error", err)
		return "", &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign the ID token"}
	}
	return tok, nil
}

// userClaims are the standard claims the scopes allow: name and nickname with profile, email with email.
func userClaims(u User, scopes []string) map[string]any {
	out := map[string]any{}
	if slices.Contains(scopes, "profile") {
		out["nickname"], out["name"] = u.Username, u.Username
		if u.Name != "" {
			out["name"] = u.Name
		}
	}
	if slices.Contains(scopes, "email") && u.Email != "" {
		out["email"] = u.Email
	}
	return out
}

// atHash is the left half of the access token's SHA-256, base64url (OIDC Core §3.1.3.6, for RS256).
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
