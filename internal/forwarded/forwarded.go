// Package forwarded reads the scheme and host a request was addressed to, from the connection or, when the server
// sits behind a proxy it trusts, from X-Forwarded-Proto and X-Forwarded-Host: the one reading of those headers
// shared by the API (DPoP htu, resource_metadata) and the stand-in tenant (discovery URLs).
package forwarded

import (
	"net/http"
	"strings"
)

// Scheme is "https" on a TLS connection, else "http"; with trust, the first X-Forwarded-Proto value wins when it
// is http or https.
func Scheme(r *http.Request, trust bool) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if trust {
		if p := strings.ToLower(first(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
	}
	return scheme
}

// Host is the request's Host; with trust, the first X-Forwarded-Host value replaces it when use accepts it. The
// caller still judges the result: without trust, Host is whatever the client sent.
func Host(r *http.Request, trust bool, use func(host string) bool) string {
	if trust {
		if h := first(r.Header.Get("X-Forwarded-Host")); use(h) {
			return h
		}
	}
	return r.Host
}

// first is the first element of a comma-separated header value, trimmed: what the client-facing proxy saw (or
// what the client claims, which is why these headers count only with trust).
func first(v string) string {
	f, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(f)
}
