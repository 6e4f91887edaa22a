package tenant

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The login form's CSRF protection is a double submit bound to the form: a random cookie, and a hidden field that
// is an HMAC (under a key made when the tenant starts) of that cookie, the time and the authorization request.
// A page on another site can neither read the cookie nor compute the HMAC, and a token made for one request
// cannot approve another.
const (
	csrfCookie = "tc_login"
	csrfMaxAge = 15 * time.Minute
)

// csrfNonce is the browser's CSRF cookie value, set anew unless it already holds a well-formed one, so two tabs
// signing in at once do not invalidate each other.
func (t *Tenant) csrfNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validNonce(c.Value) {
		return c.Value
	}
	n := newID(16)
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // Secure whenever the tenant is reached over https; development runs it over http
		Name: csrfCookie, Value: n, Path: PathAuthorize, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.HasPrefix(t.issuer, "https:"),
	})
	return n
}

func validNonce(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// csrfToken is the hidden field for nonce and the request's parameters, made at now.
func (t *Tenant) csrfToken(nonce string, params url.Values, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + t.csrfMAC(nonce, ts, params)
}

func (t *Tenant) csrfMAC(nonce, ts string, params url.Values) string {
	m := hmac.New(sha256.New, t.csrfKey)
	m.Write([]byte("login\x00" + nonce + "\x00" + ts + "\x00" + params.Encode()))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether the posted token was made for this browser's cookie and these parameters, less than
// csrfMaxAge ago. The MACs are compared in constant time.
func (t *Tenant) checkCSRF(r *http.Request, token string, params url.Values, now time.Time) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validNonce(c.Value) {
		return false
	}
	ts, mac, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	made := time.Unix(sec, 0)
	if now.Sub(made) > csrfMaxAge || made.Sub(now) > time.Minute {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(t.csrfMAC(c.Value, ts, params)))
}
