package auth

import (
	"net/http"
	"strings"
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
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if v.cfg.TrustProxy {
		if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
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

// firstValue is the first element of a comma-separated header: what the client-facing proxy saw (or what the
// client claims, which is why these headers are read only with TrustProxy).
func firstValue(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
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
