package tenant

import (
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// DefaultAllowedHosts are the host names every tenant answers besides its issuer's host: loopback by name and
// address, and the compose service name other containers use.
var DefaultAllowedHosts = []string{"localhost", "127.0.0.1", "::1", "tenant"}

// ErrBadAllowedHost marks an Options.AllowedHosts entry that is not a host name or IP address.
var ErrBadAllowedHost = errors.New("not a host name or IP address")

// hostSet is the set of host names (lower case, no port, no brackets, no trailing dot) a tenant answers.
type hostSet map[string]bool

// newHostSet is allowed (DefaultAllowedHosts when empty) plus the issuer's host, which is always allowed since every
// token names it.
func newHostSet(issuer string, allowed []string) (hostSet, error) {
	if len(allowed) == 0 {
		allowed = DefaultAllowedHosts
	}
	set := hostSet{}
	for _, h := range allowed {
		n := normalizeHost(h)
		if n == "" || strings.ContainsAny(n, "/\\?#@ ") {
			return nil, fmt.Errorf("allowed host %q: %w", h, ErrBadAllowedHost)
		}
		set[n] = true
	}
	if u, err := url.Parse(issuer); err == nil {
		set[normalizeHost(u.Host)] = true
	}
	return set, nil
}

// normalizeHost drops the port, IPv6 brackets and a trailing dot and lowers the case, so "LOCALHOST.:4000",
// "localhost" and "[::1]:80" compare as names.
func normalizeHost(h string) string {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

func (s hostSet) allows(hostport string) bool { return s[normalizeHost(hostport)] }

// guard refuses, before any handler runs, a request for a Host the tenant does not serve (421: a web page that
// rebinds its own DNS name to the tenant's address must not reach /dev/mint), and guards the /dev endpoints
// against cross-site requests (see guardDev). Only Host is checked: X-Forwarded-Host, which only shapes
// discovery's URLs with TrustProxy, is the proxy's word; an Origin must still name an allowed host.
func (t *Tenant) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.allowedHosts.allows(r.Host) {
			shown := r.Host
			if len(shown) > 100 {
				shown = shown[:100] + "…"
			}
			noStore(w)
			// Whoever reads this answer has no Go error to add a hint to, so the starting program's hint rides in it.
			desc := fmt.Sprintf("host %q is not one of this tenant's allowed hosts", shown)
			if t.hints.AllowedHosts != "" {
				desc += "; " + t.hints.AllowedHosts
			}
			writeError(w, &oauthError{status: http.StatusMisdirectedRequest, code: "invalid_request", description: desc})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/dev/") {
			if oerr := t.guardDev(r); oerr != nil {
				writeError(w, oerr)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// guardDev keeps /dev/mint and /dev/rotate to same-origin or non-browser callers: an Origin other than the
// tenant's own is 403, and a body must be application/json (415), a type no cross-site form can send without a
// CORS preflight, which the tenant never grants. Only an empty body from a caller that sends no Origin (curl, not a
// browser) may come without that type, as `curl -X POST` and curl -d with an empty string send it.
func (t *Tenant) guardDev(r *http.Request) *oauthError {
	origin, hasOrigin := r.Header["Origin"]
	if hasOrigin && (len(origin) != 1 || !t.ownOrigin(r, origin[0])) {
		return &oauthError{status: http.StatusForbidden, code: "access_denied",
			description: "cross-origin requests to /dev endpoints are refused: Origin must be this tenant's own origin"}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == "application/json" {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	emptyBody := r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody
	if !hasOrigin && emptyBody && (ct == "" || mt == "application/x-www-form-urlencoded") {
		return nil
	}
	return &oauthError{status: http.StatusUnsupportedMediaType, code: "invalid_request", description: "Content-Type must be application/json"}
}

// ownOrigin reports whether origin is the tenant as this request reached it (scheme and Host, or the forwarded ones
// with TrustProxy) or as its issuer names it.
func (t *Tenant) ownOrigin(r *http.Request, origin string) bool {
	o := canonicalOrigin(origin)
	if o == "" {
		return false
	}
	if u, err := url.Parse(o); err != nil || !t.allowedHosts.allows(u.Host) {
		return false // with TrustProxy a forwarded host could otherwise vouch for a rebinding page's origin
	}
	return o == canonicalOrigin(t.baseURL(r)) || o == canonicalOrigin(t.issuer)
}

// canonicalOrigin is scheme://host[:port] of u in lower case with the scheme's default port dropped, or "" when u
// is not an http(s) URL (an Origin of "null" included).
func canonicalOrigin(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	scheme, host, port := strings.ToLower(p.Scheme), strings.ToLower(p.Hostname()), p.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}
