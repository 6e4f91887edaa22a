package tenant

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzAuthorizeParams feeds /authorize's parser arbitrary query strings. Whatever it decides, a redirect (success
// or error) only ever goes to a redirect URI the client registered, and never carries an unregistered host.
func FuzzAuthorizeParams(f *testing.F) {
	seeds := []string{
		"response_type=code&client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback&code_challenge=" +
			strings.Repeat("a", 43) + "&code_challenge_method=S256&scope=openid&state=x",
		"response_type=code&client_id=spa&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&code_challenge_method=plain",
		"client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A80%40evil.example%2Fcallback",
		"client_id=native&redirect_uri=http%3A%2F%2F%5B%3A%3A1%5D%3A1%2Fcallback&response_type=token",
		"client_id=native&client_id=spa&redirect_uri=x",
		"client_id=native&redirect_uri=http://127.0.0.1:1/callback%3Fa&scope=%00&audience=https%3A%2F%2Fquickstarts%2Fapi",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	ten, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		req, aerr := ten.parseAuthorize(v)
		if aerr != nil && !aerr.redirect {
			return
		}
		if !req.client.matchRedirect(req.redirectURI) || v.Get("redirect_uri") != req.redirectURI {
			t.Fatalf("would redirect to %q, not a registered redirect of %q", req.redirectURI, req.client.ID)
		}
		u, err := url.Parse(withParams(req.redirectURI, url.Values{"code": {"c"}, "state": {req.state}}))
		if err != nil {
			t.Fatal(err)
		}
		if h := u.Hostname(); h != "127.0.0.1" && h != "::1" && h != "localhost" {
			t.Fatalf("redirect host %q", h)
		}
		if aerr == nil && req.client.Public && req.challenge == "" {
			t.Fatal("a public client's request was accepted without PKCE")
		}
	})
}
