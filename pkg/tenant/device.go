package tenant

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// oidcScopes may be asked for in a device flow (clients often send them) but are not API scopes; they are
// accepted and left out of the access token, which has no ID token beside it here.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// deviceCodeResponse is RFC 8628 §3.2's body.
type deviceCodeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// serveDeviceCode is /oauth/device/code (RFC 8628 §3.1): a public client asks for a user's token on an audience.
func (t *Tenant) serveDeviceCode(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	p, oerr := readParams(w, r)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	c, oerr := t.authenticateClient(r, p)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	if !c.Public {
		writeError(w, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client",
			description: fmt.Sprintf("client %q is confidential; the device flow needs a public client (public: true)", c.ID)})
		return
	}
	aud := p["audience"]
	if aud == "" {
		writeError(w, errInvalidRequest("audience is required: the identifier of the API the token is for"))
		return
	}
	api, ok := t.apis[aud]
	if !ok {
		writeError(w, accessDenied("Service not found: "+aud))
		return
	}
	var requested []string
	for _, s := range strings.Fields(p["scope"]) {
		switch {
		case slices.Contains(oidcScopes, s):
		case slices.Contains(api.Scopes, s):
			requested = append(requested, s)
		default:
			writeError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
				description: fmt.Sprintf("scope %q is not defined on API %q", s, aud)})
			return
		}
	}
	a, oerr := t.devices.start(t.now(), c.ID, aud, uniq(requested))
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	verify := t.baseURL(r) + PathActivate[1:]
	writeJSON(w, http.StatusOK, deviceCodeResponse{
		DeviceCode:              a.deviceCode,
		UserCode:                a.userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(a.userCode),
		ExpiresIn:               int64(math.Ceil(t.devices.ttl.Seconds())),
		Interval:                max(1, int64(math.Ceil(a.interval.Seconds()))),
	})
}

// deviceCodeGrant is /oauth/token with grant_type device_code: pending, slow_down, expired, denied, or the token.
func (t *Tenant) deviceCodeGrant(c Client, p map[string]string, jkt string) (tokenResponse, *oauthError) {
	code := p["device_code"]
	if code == "" {
		return tokenResponse{}, errInvalidRequest("device_code is required")
	}
	a, oerr := t.devices.poll(t.now(), c.ID, code)
	if oerr != nil {
		return tokenResponse{}, oerr
	}
	return t.issue(tokenClaims{sub: "auth0|" + a.username, aud: a.audience, azp: a.clientID, scopes: a.granted, jkt: jkt})
}

// userScopes is what a user gets on an audience: their configured scopes, narrowed to the requested ones.
func userScopes(u User, audience string, requested []string) []string {
	have := u.Scopes[audience]
	if len(requested) == 0 {
		return append([]string(nil), have...)
	}
	var out []string
	for _, s := range requested {
		if slices.Contains(have, s) {
			out = append(out, s)
		}
	}
	return out
}
