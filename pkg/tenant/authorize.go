package tenant

import (
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
)

// maxLoginBytes bounds the login form: the authorization parameters (each at most maxAuthorizeParam) and three
// short fields.
const maxLoginBytes = 64 << 10

//go:embed login.html
var loginHTML string

// loginTmpl escapes everything it prints (html/template): parameters, names and messages come from the request.
var loginTmpl = template.Must(template.New("login").Parse(loginHTML))

// loginPage is what login.html shows: the sign-in form (Form) with an optional Error, or only a Message (an
// error that cannot go back to the application, or the end of a logout).
type loginPage struct {
	Title    string
	ClientID string
	Fields   []hiddenField
	CSRF     string
	Username string
	Error    string
	Message  string
	Form     bool
}

// hiddenField is one authorization parameter carried by the form to its POST.
type hiddenField struct{ Name, Value string }

// serveAuthorize is GET /authorize: it checks the request and shows the sign-in form.
func (t *Tenant) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	req, aerr := t.parseAuthorize(r.URL.Query())
	if aerr != nil {
		t.authorizeFailed(w, r, req, aerr)
		return
	}
	t.showLogin(w, r, http.StatusOK, req, "", "")
}

// serveLogin is POST /authorize, the form's submission: CSRF, throttling, the password (constant time), then a
// code back to the application.
func (t *Tenant) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBytes)
	if err := r.ParseForm(); err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			t.renderLogin(w, http.StatusRequestEntityTooLarge, "", loginPage{Title: "Sign-in failed", Message: "The form is too large."})
			return
		}
		t.renderLogin(w, http.StatusBadRequest, "", loginPage{Title: "Sign-in failed", Message: "The form could not be read; go back to the application and try again."})
		return
	}
	v := url.Values{}
	for _, k := range authorizeParams {
		if vals, ok := r.PostForm[k]; ok {
			v[k] = vals
		}
	}
	req, aerr := t.parseAuthorize(v)
	if aerr != nil {
		t.authorizeFailed(w, r, req, aerr)
		return
	}
	now := t.now()
	username := truncate(r.PostForm.Get("username"), 256)
	if !t.checkCSRF(r, r.PostForm.Get("csrf"), req.params, now) {
		t.log.Warn("login form refused: bad or missing CSRF token", "client", req.client.ID, "remote", remoteHost(r))
		t.showLogin(w, r, http.StatusForbidden, req, username,
			"This sign-in form has expired or was not sent from this page. Please sign in again.")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		t.authorizeFailed(w, r, req, redirectError("access_denied", "the user cancelled the sign-in"))
		return
	}
	throttled, counted := t.signInAttempt(w, r, now, username)
	if throttled != "" {
		t.log.Warn("login throttled", "user", username, "remote", remoteHost(r))
		t.showLogin(w, r, http.StatusTooManyRequests, req, username, throttled)
		return
	}
	u, ok := t.checkUser(username, r.PostForm.Get("password"))
	counted(ok)
	if !ok {
		t.showLogin(w, r, http.StatusForbidden, req, username, "Wrong username or password.")
		return
	}
	code, ok := t.grants.newCode(now, grant{clientID: req.client.ID, username: u.Username, audience: req.audience,
		nonce: req.nonce, scopes: req.scopes, authTime: now}, req.redirectURI, req.challenge)
	if !ok {
		t.authorizeFailed(w, r, req, redirectError("temporarily_unavailable", "too many sign-ins in progress; try again in a minute"))
		return
	}
	t.log.Info("user signed in", "user", u.Username, "client", req.client.ID)
	out := url.Values{"code": {code}}
	if req.state != "" {
		out.Set("state", req.state)
	}
	noStore(w) // the Location carries the code
	http.Redirect(w, r, withParams(req.redirectURI, out), http.StatusSeeOther)
}

// authorizeFailed answers a failed authorization request: a page when the redirect URI is not trusted, else a
// redirect carrying error, error_description and state (RFC 6749 §4.1.2.1).
func (t *Tenant) authorizeFailed(w http.ResponseWriter, r *http.Request, req authzRequest, aerr *authzError) {
	if !aerr.redirect {
		t.renderLogin(w, http.StatusBadRequest, "", loginPage{Title: "Sign-in request refused", Message: aerr.description})
		return
	}
	out := url.Values{"error": {aerr.code}, "error_description": {aerr.description}}
	if req.state != "" {
		out.Set("state", req.state)
	}
	noStore(w)
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, withParams(req.redirectURI, out), status)
}

// showLogin renders the sign-in form for req with a fresh CSRF token.
func (t *Tenant) showLogin(w http.ResponseWriter, r *http.Request, status int, req authzRequest, username, errMsg string) {
	nonce := t.csrfNonce(w, r)
	page := loginPage{Title: "Sign in", ClientID: req.client.ID, Username: username, Error: errMsg, Form: true,
		CSRF: t.csrfToken(nonce, req.params, t.now())}
	keys := make([]string, 0, len(req.params))
	for k := range req.params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		page.Fields = append(page.Fields, hiddenField{Name: k, Value: req.params.Get(k)})
	}
	t.renderLogin(w, status, canonicalOrigin(req.redirectURI), page)
}

// renderLogin writes a login page. redirectOrigin is where the form's POST may redirect: CSP form-action also
// governs the redirect after a submission, so the application's origin must be allowed beside the tenant's.
func (t *Tenant) renderLogin(w http.ResponseWriter, status int, redirectOrigin string, page loginPage) {
	formAction := "'self'"
	if redirectOrigin != "" {
		formAction += " " + redirectOrigin
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := loginTmpl.Execute(w, page); err != nil {
		t.log.Error("render login page", "error", err)
	}
}
