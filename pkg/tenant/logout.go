package tenant

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// Logout paths: OIDC RP-Initiated Logout 1.0's end_session_endpoint and Auth0's own.
const (
	PathOIDCLogout = "/oidc/logout"
	PathV2Logout   = "/v2/logout"
)

// maxLogoutBody bounds a form-posted logout request: an ID token hint and a few URLs.
const maxLogoutBody = 16 << 10

// serveOIDCLogout is RP-Initiated Logout 1.0 §2-3: post_logout_redirect_uri must be one of the logout URLs of the
// client named by client_id or by the id_token_hint's aud; state goes back with it. An id_token_hint ends the
// login it came from (its sid), so the refresh tokens of that login stop working. There is no login session
// cookie to clear: the tenant keeps none.
func (t *Tenant) serveOIDCLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost { // RP-Initiated Logout 1.0 §2: a form post carries the same parameters
		r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
		if err := r.ParseForm(); err != nil {
			t.logoutPage(w, http.StatusBadRequest, "The logout request could not be read.")
			return
		}
		q = r.PostForm
	}
	clientID, target, hint := q.Get("client_id"), q.Get("post_logout_redirect_uri"), q.Get("id_token_hint")
	if hint != "" {
		claims, err := t.parseIDTokenHint(hint)
		if err != nil {
			t.logoutPage(w, http.StatusBadRequest, "The id_token_hint is not an ID token from this tenant, so the logout was not done.")
			return
		}
		aud, _ := claims["aud"].(string)
		if clientID != "" && aud != clientID {
			t.logoutPage(w, http.StatusBadRequest, "client_id does not match the id_token_hint's audience.")
			return
		}
		clientID = aud
		if sid, _ := claims["sid"].(string); sid != "" {
			t.grants.revoke(sid)
		}
	}
	if target == "" {
		t.logoutPage(w, http.StatusOK, "You are signed out.")
		return
	}
	registered, msg := t.logoutTarget(clientID, target, "post_logout_redirect_uri", "client_id or id_token_hint")
	if msg != "" {
		t.logoutPage(w, http.StatusBadRequest, msg)
		return
	}
	out := url.Values{}
	if s := q.Get("state"); s != "" && len(s) <= maxAuthorizeParam {
		out.Set("state", s)
	}
	noStore(w)
	http.Redirect(w, r, withParams(registered, out), http.StatusFound)
}

// serveV2Logout is Auth0's GET /v2/logout?returnTo=&client_id=: returnTo must be one of that client's logout URLs.
func (t *Tenant) serveV2Logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target := q.Get("returnTo")
	if target == "" {
		t.logoutPage(w, http.StatusOK, "You are signed out.")
		return
	}
	registered, msg := t.logoutTarget(q.Get("client_id"), target, "returnTo", "client_id")
	if msg != "" {
		t.logoutPage(w, http.StatusBadRequest, msg)
		return
	}
	noStore(w)
	http.Redirect(w, r, registered, http.StatusFound)
}

// logoutTarget is the registered logout URL equal to target, or why there is none: it must be one of clientID's,
// exactly, so logout cannot be an open redirector. The redirect uses the registered string, never the request's.
func (t *Tenant) logoutTarget(clientID, target, param, clientParam string) (registered, why string) {
	if clientID == "" {
		return "", fmt.Sprintf("%s needs %s, to know whose logout URLs it must be one of. You are signed out.", param, clientParam)
	}
	c, ok := t.clients[clientID]
	if !ok {
		return "", fmt.Sprintf("Unknown client_id %q. You are signed out.", truncate(clientID, 200))
	}
	i := slices.Index(c.LogoutURLs, target)
	if i < 0 {
		return "", fmt.Sprintf("%s %q is not one of client %q's logout URLs (logout_urls in the tenant config). You are signed out.",
			param, truncate(target, 500), clientID)
	}
	return c.LogoutURLs[i], ""
}

// logoutPage shows a logout outcome instead of redirecting.
func (t *Tenant) logoutPage(w http.ResponseWriter, status int, msg string) {
	title := "Signed out"
	if status != http.StatusOK {
		title = "Logout redirect refused"
	}
	t.renderLogin(w, status, "", loginPage{Title: title, Message: msg})
}
