package tenant

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// appTypes are the values Client.AppType may take ("" too).
var appTypes = []string{AppTypeNative, AppTypeSPA, AppTypeRegularWeb, AppTypeNonInteractive}

// validateLoginClient checks the fields that let a client send users to /authorize and log them out; add names the
// field under the client (path relative to clients[i]).
func validateLoginClient(cl Client, add func(msg string, path ...any)) {
	if cl.AppType != "" && !slices.Contains(appTypes, cl.AppType) {
		add(fmt.Sprintf("app_type %q is not one of %s", cl.AppType, strings.Join(appTypes, ", ")), "app_type")
	}
	for j, u := range cl.RedirectURIs {
		if msg := checkRedirectURI(u); msg != "" {
			add(fmt.Sprintf("redirect URI %q %s", u, msg), "redirect_uris", j)
		}
	}
	for j, u := range cl.LogoutURLs {
		if msg := checkRedirectURI(u); msg != "" {
			add(fmt.Sprintf("logout URL %q %s", u, msg), "logout_urls", j)
		}
	}
	for j, o := range cl.WebOrigins {
		switch {
		case o == "*" || strings.Contains(o, "*"):
			add(fmt.Sprintf("web origin %q: wildcards are not allowed; list each origin such as http://localhost:3000", o), "web_origins", j)
		case canonicalOrigin(o) != o:
			add(fmt.Sprintf("web origin %q must be scheme://host[:port] in lower case, without a path or trailing slash (such as http://localhost:3000)", o), "web_origins", j)
		}
	}
}

// checkRedirectURI is why u cannot be a registered redirect or logout URL, or "": an absolute http(s) URL without
// a fragment (RFC 6749 §3.1.2) or user information.
func checkRedirectURI(u string) string {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return "is not a URL"
	case p.Scheme != "http" && p.Scheme != "https":
		return "must be an absolute http(s) URL such as http://localhost:3000/callback"
	case p.Host == "" || p.Opaque != "":
		return "must name a host"
	case p.Fragment != "" || strings.Contains(u, "#"):
		return "must not have a fragment (RFC 6749 §3.1.2)"
	case p.User != nil:
		return "must not carry user information"
	case strings.ContainsAny(u, " \t\r\n\"'<>\\"):
		return "must not contain spaces, quotes, angle brackets or backslashes"
	}
	return ""
}
