package tenant

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// maxAuthorizeParam bounds each /authorize parameter; they are carried in the login form and reflected in
// redirects, so none may be large.
const maxAuthorizeParam = 2048

// authorizeParams are the parameters /authorize reads; the login form carries exactly these to its POST.
var authorizeParams = []string{
	"response_type", "response_mode", "client_id", "redirect_uri", "state", "nonce", "scope", "audience",
	"code_challenge", "code_challenge_method", "prompt",
}

// authzRequest is an /authorize request whose client and redirect URI are known to be registered.
type authzRequest struct {
	client      Client
	redirectURI string
	state       string
	nonce       string
	scopes      []string
	audience    string
	challenge   string
	params      url.Values // the authorize parameters as given, for the login form
}

// authzError is why an authorization request fails. Without a trusted redirect URI (redirect false) the user sees
// it on a page, since redirecting to an unchecked URI would make the tenant an open redirector (RFC 6749
// §4.1.2.1); otherwise it goes back to the client as error and error_description.
type authzError struct {
	redirect    bool
	code        string
	description string
}

func (e *authzError) Error() string { return e.code + ": " + e.description }

func pageError(desc string) *authzError {
	return &authzError{code: "invalid_request", description: desc}
}

func redirectError(code, desc string) *authzError {
	return &authzError{redirect: true, code: code, description: desc}
}

// parseAuthorize checks an authorization request (RFC 6749 §4.1.1, OIDC Core 3.1.2.1, RFC 7636 §4.3). The client
// and redirect URI come first: until both are trusted, errors are shown, never redirected. The returned request
// carries the state to send back even with an error, when the redirect URI is trusted.
func (t *Tenant) parseAuthorize(v url.Values) (authzRequest, *authzError) {
	one := func(k string) (string, bool) {
		vals := v[k]
		if len(vals) > 1 || (len(vals) == 1 && len(vals[0]) > maxAuthorizeParam) {
			return "", false
		}
		if len(vals) == 0 {
			return "", true
		}
		return vals[0], true
	}
	clientID, ok := one("client_id")
	switch {
	case !ok:
		return authzRequest{}, pageError("client_id is given more than once or is too long.")
	case clientID == "":
		return authzRequest{}, pageError("client_id is missing: the application that sent you here is misconfigured.")
	}
	c, known := t.clients[clientID]
	if !known {
		return authzRequest{}, pageError(fmt.Sprintf("Unknown client_id %q.", clientID))
	}
	if len(c.RedirectURIs) == 0 {
		return authzRequest{}, pageError(fmt.Sprintf("Client %q has no redirect URIs registered (redirect_uris in the tenant config), so it cannot sign users in.", clientID))
	}
	redirectURI, ok := one("redirect_uri")
	switch {
	case !ok:
		return authzRequest{}, pageError("redirect_uri is given more than once or is too long.")
	case redirectURI == "":
		return authzRequest{}, pageError("redirect_uri is missing: the application that sent you here is misconfigured.")
	case !c.matchRedirect(redirectURI):
		return authzRequest{}, pageError(fmt.Sprintf("redirect_uri %q is not registered for client %q (redirect_uris in the tenant config).", redirectURI, clientID))
	}
	req := authzRequest{client: c, redirectURI: redirectURI, params: url.Values{}}
	for _, k := range authorizeParams {
		if vals, ok := v[k]; ok {
			req.params[k] = vals
		}
	}
	if s, ok := one("state"); ok {
		req.state = s // sent back with any error from here on
	}
	for _, k := range authorizeParams {
		if _, ok := one(k); !ok {
			return req, redirectError("invalid_request", fmt.Sprintf("parameter %s is given more than once or is longer than %d bytes", k, maxAuthorizeParam))
		}
	}
	switch rt := v.Get("response_type"); rt {
	case "code":
	case "":
		return req, redirectError("invalid_request", "response_type is required; only code is supported")
	default:
		return req, redirectError("unsupported_response_type", fmt.Sprintf("response_type %q is not supported; use code (with PKCE)", rt))
	}
	if rm := v.Get("response_mode"); rm != "" && rm != "query" {
		return req, redirectError("invalid_request", fmt.Sprintf("response_mode %q is not supported; only query is", rm))
	}
	req.nonce = v.Get("nonce")
	req.audience = v.Get("audience")
	var api API
	if req.audience != "" {
		var ok bool
		if api, ok = t.apis[req.audience]; !ok {
			return req, redirectError("access_denied", "Service not found: "+req.audience)
		}
	}
	for _, s := range strings.Fields(v.Get("scope")) {
		if !slices.Contains(oidcScopes, s) && !slices.Contains(api.Scopes, s) {
			desc := fmt.Sprintf("scope %q is not defined on API %q", s, req.audience)
			if req.audience == "" {
				desc = fmt.Sprintf("scope %q needs an audience: only openid, profile, email and offline_access stand alone", s)
			}
			return req, redirectError("invalid_scope", desc)
		}
		req.scopes = append(req.scopes, s)
	}
	req.scopes = uniq(req.scopes)
	if oerr := req.parsePKCE(v.Get("code_challenge"), v.Get("code_challenge_method")); oerr != nil {
		return req, oerr
	}
	if slices.Contains(strings.Fields(v.Get("prompt")), "none") {
		// There is no login session to reuse: every sign-in shows the form.
		return req, redirectError("login_required", "this tenant keeps no login session; sign in without prompt=none")
	}
	return req, nil
}

// parsePKCE checks RFC 7636 §4.3's parameters: S256 only (plain would let anyone who sees the request redeem the
// code) and required for public clients, which have no secret to bind the code to.
func (req *authzRequest) parsePKCE(challenge, method string) *authzError {
	switch {
	case challenge == "" && method != "":
		return redirectError("invalid_request", "code_challenge_method was sent without code_challenge")
	case challenge == "" && req.client.Public:
		return redirectError("invalid_request", "PKCE is required for public clients: send code_challenge and code_challenge_method=S256")
	case challenge == "":
		return nil
	case method != "S256":
		if method == "" {
			method = "plain (the default when it is left out)"
		}
		return redirectError("invalid_request", fmt.Sprintf("code_challenge_method %s is not supported; use S256", method))
	case len(challenge) != 43 || strings.ContainsFunc(challenge, func(r rune) bool { return !isBase64URL(r) }):
		return redirectError("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the code_verifier")
	}
	req.challenge = challenge
	return nil
}

func isBase64URL(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// matchRedirect reports whether uri is one of the client's redirect URIs: exactly, or for a native client an
// http loopback URI that differs from a registered loopback one only in its port (RFC 8252 §7.3: the app picks a
// free port at run time).
func (c Client) matchRedirect(uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if c.AppType != AppTypeNative || strings.ContainsAny(uri, "\\ \t\r\n#") {
		return false
	}
	got, err := url.Parse(uri)
	if err != nil || !isLoopbackHTTP(got) {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err == nil && isLoopbackHTTP(r) && r.Hostname() == got.Hostname() && r.EscapedPath() == got.EscapedPath() &&
			r.RawQuery == got.RawQuery {
			return true
		}
	}
	return false
}

// isLoopbackHTTP is an http URL on a loopback IP literal with no user information or fragment. localhost is left
// out, as RFC 8252 §8.3 advises: a name can resolve elsewhere.
func isLoopbackHTTP(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "http" && u.Opaque == "" && u.User == nil && u.Fragment == "" && (h == "127.0.0.1" || h == "::1")
}

// withParams is u with params added to its query, keeping any query it was registered with.
func withParams(u string, params url.Values) string {
	p, err := url.Parse(u)
	if err != nil {
		return "" // registered and matched URIs always parse
	}
	q := p.Query()
	for k, v := range params {
		q[k] = v
	}
	p.RawQuery = q.Encode()
	return p.String()
}
