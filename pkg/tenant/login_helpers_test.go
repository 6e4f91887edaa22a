package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// loginFixture is a tenant with a hand-moved clock, for code expiry and throttling.
func loginFixture(t *testing.T) (*fixture, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	return start(t, nil, Options{Now: clock.Now}), clock
}

// browser is a user agent with its own cookies that does not follow redirects, so tests see every Location.
type browser struct {
	f      *fixture
	client *http.Client
}

func (f *fixture) browser() *browser {
	f.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	c := *f.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{f: f, client: &c}
}

func (b *browser) send(method, target, body string) (*http.Response, string) {
	b.f.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, target, strings.NewReader(body))
	if err != nil {
		b.f.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	return resp, string(raw)
}

// authorize opens /authorize with params.
func (b *browser) authorize(params url.Values) (*http.Response, string) {
	b.f.t.Helper()
	return b.send(http.MethodGet, b.f.srv.URL+PathAuthorize+"?"+params.Encode(), "")
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// formFields reads the login form's hidden fields, as a browser would submit them.
func formFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if v.Get("csrf") == "" {
		t.Fatalf("no login form with a CSRF token in:\n%s", page)
	}
	return v
}

// submit posts the form's fields with the credentials and action.
func (b *browser) submit(fields url.Values, username, password, action string) (*http.Response, string) {
	b.f.t.Helper()
	v := url.Values{}
	for k, vals := range fields {
		v[k] = vals
	}
	v.Set("username", username)
	v.Set("password", password)
	v.Set("action", action)
	return b.send(http.MethodPost, b.f.srv.URL+PathAuthorize, v.Encode())
}

// pkce is a fresh verifier and its S256 challenge, computed here rather than by the code under test.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// nativeRequest is what a CLI sends: the native client, a loopback redirect on some port, PKCE, state and nonce.
func nativeRequest(challenge, scope string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {"native"}, "redirect_uri": {"http://127.0.0.1:53682/callback"},
		"state": {"st-" + newID(4)}, "nonce": {"n-" + newID(4)}, "scope": {scope}, "audience": {testAudience},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// signIn runs the login page for params as user and returns the redirect's query, failing unless it redirects
// to the request's redirect_uri.
func (b *browser) signIn(params url.Values, username, password string) url.Values {
	b.f.t.Helper()
	resp, page := b.authorize(params)
	if resp.StatusCode != http.StatusOK {
		b.f.t.Fatalf("GET /authorize: %d\n%s", resp.StatusCode, page)
	}
	resp, page = b.submit(formFields(b.f.t, page), username, password, "login")
	return redirectQuery(b.f.t, resp, page, params.Get("redirect_uri"))
}

// redirectQuery checks that resp redirects to redirectURI and returns the query it carries.
func redirectQuery(t *testing.T, resp *http.Response, page, redirectURI string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("want a redirect, got %d\n%s", resp.StatusCode, page)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	base := *loc
	base.RawQuery = ""
	if base.String() != redirectURI {
		t.Fatalf("redirect to %s, want %s", loc, redirectURI)
	}
	return loc.Query()
}

// exchange redeems a code at /oauth/token as client id.
func (f *fixture) exchange(clientID, code, redirectURI, verifier string) (*http.Response, map[string]any) {
	f.t.Helper()
	v := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		v.Set("code_verifier", verifier)
	}
	return f.postForm(PathToken, v)
}

// refresh uses a refresh token at /oauth/token.
func (f *fixture) refresh(clientID, token string) (*http.Response, map[string]any) {
	f.t.Helper()
	return f.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {token}})
}

// userinfo calls /userinfo with token and returns the status, the challenge and the body.
func (f *fixture) userinfo(token string) (int, string, map[string]any) {
	f.t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	resp, raw := f.do(http.MethodGet, PathUserinfo, "", "", h)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), decodeObject(f.t, raw)
}

// loginTokens is a full native login as user with scope, returning the token response; change, if given, edits
// the authorization request first.
func (f *fixture) loginTokens(username, password, scope string, change ...func(url.Values)) map[string]any {
	f.t.Helper()
	verifier, challenge := pkce()
	params := nativeRequest(challenge, scope)
	for _, c := range change {
		c(params)
	}
	q := f.browser().signIn(params, username, password)
	resp, body := f.exchange("native", q.Get("code"), params.Get("redirect_uri"), verifier)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	return body
}
