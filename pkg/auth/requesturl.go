package auth

import (
	"net/http"
	"strings"

	"github.com/tokencheck/tokencheck/internal/forwarded"
)

// maxHostLength bounds a Host taken from a request (a DNS name is at most 253 bytes, plus a port).
const maxHostLength = 260

// BaseURL is the API's origin as clients address it: PublicURL when configured, else the request's scheme and
// Host, or with TrustProxy the first X-Forwarded-Proto and X-Forwarded-Host values. It is "" when the host is not
// a plain host[:port], so a hostile Host never reaches a challenge.
func (v *Validator) BaseURL(r *http.Request) string {
	if v.cfg.PublicURL != "" {
		return v.cfg.PublicURL
	}
	scheme := forwarded.Scheme(r, v.cfg.TrustProxy)
	host := forwarded.Host(r, v.cfg.TrustProxy, func(h string) bool { return h != "" })
	if !plainHost(host) {
		return ""
	}
	return scheme + "://" + host
}

// RequestURL is the URL a DPoP proof's htu must name for r: BaseURL plus the path as sent, without the query.
func (v *Validator) RequestURL(r *http.Request) string {
	base := v.BaseURL(r)
	if base == "" {
		return ""
	}
	return base + r.URL.EscapedPath()
}

// plainHost allows a host[:port] of letters, digits and . - _ : [ ] only (IPv6 literals included).
func plainHost(h string) bool {
	if h == "" || len(h) > maxHostLength {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !hostByte(h[i]) {
			return false
		}
	}
	return true
}

func hostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0
}
