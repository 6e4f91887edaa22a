package tenant

import (
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"errors"
	"html/template"
	"net"
	"net/http"
)

// maxActivateBytes bounds the approval form; it holds three short fields.
const maxActivateBytes = 16 << 10

//go:embed activate.html
var activateHTML string

// activateTmpl escapes everything it prints (html/template), so a typed code or name cannot inject markup.
var activateTmpl = template.Must(template.New("activate").Parse(activateHTML))

// activatePage is what the page shows: the form (prefilled) with an optional error, or the outcome.
type activatePage struct {
	UserCode, Username string
	Error, Done        string
}

// serveActivatePage shows the approval form, prefilled from verification_uri_complete's user_code.
func (t *Tenant) serveActivatePage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	if n := normalizeUserCode(code); n != "" {
		code = n
	}
	if len(code) > 32 {
		code = ""
	}
	t.renderActivate(w, http.StatusOK, activatePage{UserCode: code})
}

// serveActivate checks the user code and the user's password (constant time) and records the decision.
func (t *Tenant) serveActivate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxActivateBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			t.renderActivate(w, http.StatusRequestEntityTooLarge, activatePage{Error: "The form is too large."})
			return
		}
		t.renderActivate(w, http.StatusBadRequest, activatePage{Error: "The form could not be read; please try again."})
		return
	}
	typed, username, password := r.PostForm.Get("user_code"), r.PostForm.Get("username"), r.PostForm.Get("password")
	page := activatePage{UserCode: typed, Username: username}
	if len(page.UserCode) > 32 || len(page.Username) > 256 {
		page.UserCode, page.Username = "", ""
	}
	action := r.PostForm.Get("action")
	if action != "approve" && action != "deny" {
		page.Error = "Choose Approve or Deny."
		t.renderActivate(w, http.StatusBadRequest, page)
		return
	}
	code := normalizeUserCode(typed)
	now := t.now()
	a, ok := t.devices.pendingByUserCode(now, code)
	if code == "" || !ok {
		page.Error = "That code is not valid, has expired or was already used. Check the code on your device."
		t.renderActivate(w, http.StatusBadRequest, page)
		return
	}
	page.UserCode = code
	throttled, counted := t.signInAttempt(w, r, now, username)
	if throttled != "" {
		page.Error = throttled
		t.log.Warn("device approval throttled", "user", username, "remote", remoteHost(r))
		t.renderActivate(w, http.StatusTooManyRequests, page)
		return
	}
	u, ok := t.checkUser(username, password)
	counted(ok)
	if !ok {
		page.Error = "Wrong username or password."
		t.renderActivate(w, http.StatusForbidden, page)
		return
	}
	approve := action == "approve"
	if !t.devices.decide(now, code, u.Username, approve, userScopes(u, a.audience, a.requested)) {
		page.Error = "That code has expired or was already used. Start again on your device."
		t.renderActivate(w, http.StatusBadRequest, page)
		return
	}
	t.log.Info("device authorization decided", "user", u.Username, "client", a.clientID, "approved", approve)
	done := "Access denied. You can close this window."
	if approve {
		done = "Device approved. You can close this window and return to your device."
	}
	t.renderActivate(w, http.StatusOK, activatePage{Done: done})
}

// truncate cuts s to at most n bytes, so a huge field cannot become a huge map key.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// remoteHost is the address a request came from, without its port: the unit /activate throttles by.
func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// checkUser finds a configured user by name and password; the password check costs the same for unknown users.
func (t *Tenant) checkUser(username, password string) (User, bool) {
	u, known := t.users[username]
	g, w := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(u.Password))
	match := subtle.ConstantTimeCompare(g[:], w[:]) == 1
	return u, known && match && u.Password != ""
}

func (t *Tenant) renderActivate(w http.ResponseWriter, status int, page activatePage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := activateTmpl.Execute(w, page); err != nil {
		t.log.Error("render activate page", "error", err)
	}
}
