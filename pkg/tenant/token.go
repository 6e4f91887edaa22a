package tenant

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Grant types /oauth/token accepts.
const (
	grantClientCredentials = "client_credentials"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

// grantTypes are the grants /oauth/token accepts, in the order errors and discovery list them.
var grantTypes = []string{grantClientCredentials, grantDeviceCode, grantAuthorizationCode, grantRefreshToken}

// tokenResponse is RFC 6749 §5.1's success body.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	// IDToken and RefreshToken come only from a user login (authorization_code and refresh_token grants).
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// serveToken is /oauth/token: client_credentials, the device_code grant, and a user login's authorization_code
// and refresh_token grants; errors per RFC 6749 §5.2.
func (t *Tenant) serveToken(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	p, oerr := readParams(w, r)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	grant := p["grant_type"]
	if grant == "" {
		writeError(w, errInvalidRequest("grant_type is required"))
		return
	}
	if !slices.Contains(grantTypes, grant) {
		writeError(w, &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			description: fmt.Sprintf("grant_type %q is not supported; use one of %s", grant, strings.Join(grantTypes, ", "))})
		return
	}
	client, oerr := t.authenticateClient(r, p)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	var resp tokenResponse
	switch grant {
	case grantClientCredentials:
		resp, oerr = t.clientCredentials(client, p)
	case grantDeviceCode:
		resp, oerr = t.deviceCodeGrant(client, p)
	case grantAuthorizationCode:
		resp, oerr = t.authorizationCodeGrant(client, p)
	default:
		resp, oerr = t.refreshTokenGrant(client, p)
	}
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// clientCredentials issues a machine token for the client's grant on the audience, optionally narrowed by scope.
func (t *Tenant) clientCredentials(c Client, p map[string]string) (tokenResponse, *oauthError) {
	if c.Public {
		return tokenResponse{}, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client",
			description: fmt.Sprintf("client %q is public and cannot use client_credentials", c.ID)}
	}
	aud := p["audience"]
	if aud == "" {
		return tokenResponse{}, errInvalidRequest("audience is required: the identifier of the API the token is for")
	}
	if _, ok := t.apis[aud]; !ok {
		return tokenResponse{}, accessDenied(fmt.Sprintf("Service not found: %s", aud))
	}
	allowed, ok := c.Grants[aud]
	if !ok {
		return tokenResponse{}, accessDenied(fmt.Sprintf("Client %q is not authorized to access %q; add a grant for it to the client", c.ID, aud))
	}
	scopes, oerr := narrow(allowed, p["scope"], fmt.Sprintf("client %q", c.ID))
	if oerr != nil {
		return tokenResponse{}, oerr
	}
	return t.issue(tokenClaims{sub: c.ID + "@clients", aud: aud, azp: c.ID, gty: "client-credentials", scopes: scopes})
}

// accessDenied is Auth0's answer for an API the client may not use: 403, not 400.
func accessDenied(desc string) *oauthError {
	return &oauthError{status: http.StatusForbidden, code: "access_denied", description: desc}
}

// narrow returns the requested scopes if every one is allowed, or all allowed scopes when none are requested.
func narrow(allowed []string, requested, who string) ([]string, *oauthError) {
	want := strings.Fields(requested)
	if len(want) == 0 {
		return allowed, nil
	}
	for _, s := range want {
		if !slices.Contains(allowed, s) {
			return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
				description: fmt.Sprintf("scope %q is not granted to %s", s, who)}
		}
	}
	return uniq(want), nil
}
