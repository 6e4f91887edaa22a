package tenant

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// verifyIDToken checks an ID token independently: golang-jwt with the served JWKS, RS256, iss, aud = client.
func (f *fixture) verifyIDToken(token, clientID string) jwt.MapClaims {
	f.t.Helper()
	_, raw := f.do(http.MethodGet, PathJWKS, "", "", nil)
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		f.t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(token, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(f.issuer), jwt.WithAudience(clientID), jwt.WithExpirationRequired(), jwt.WithIssuedAt()); err != nil {
		f.t.Fatalf("ID token does not verify: %v", err)
	}
	return claims
}

func TestLoginIssuesTokens(t *testing.T) {
	t.Parallel()
	f, clock := loginFixture(t)
	tests := []struct {
		name, user, password, scope string
		noAudience                  bool
		wantScope                   string // the access token's scope claim
		wantID, wantRefresh         bool
	}{
		{"alice, every scope", "alice", "alice-password", "openid profile email offline_access read:messages",
			false, "openid profile email offline_access read:messages", true, true},
		{"alice asks for a scope she lacks", "alice", "alice-password", "openid write:messages read:messages",
			false, "openid read:messages", true, false},
		{"bob has no API scopes", "bob", "bob-password", "openid profile read:messages", false, "openid profile", true, false},
		{"no openid: no ID token, API audience only", "alice", "alice-password", "read:messages", false, "read:messages", false, false},
		{"no audience: a token for /userinfo", "alice", "alice-password", "openid email", true, "openid email", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			verifier, challenge := pkce()
			params := nativeRequest(challenge, tc.scope)
			if tc.noAudience {
				params.Del("audience")
			}
			before := clock.Now()
			q := f.browser().signIn(params, tc.user, tc.password)
			if q.Get("state") != params.Get("state") || q.Get("code") == "" || q.Get("error") != "" {
				t.Fatalf("redirect query %v", q)
			}
			resp, body := f.exchange("native", q.Get("code"), params.Get("redirect_uri"), verifier)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("exchange: %d %v", resp.StatusCode, body)
			}
			access := body["access_token"].(string)
			if body["scope"] != tc.wantScope || body["token_type"] != "Bearer" {
				t.Fatalf("scope %v, want %q", body["scope"], tc.wantScope)
			}
			userinfoAud := f.issuer + "userinfo"
			claims, err := f.verify(access)
			if tc.noAudience {
				if err == nil {
					t.Fatal("a token asked for without audience is accepted for the API")
				}
				claims, err = f.verifyWithAudience(access, userinfoAud)
			}
			if err != nil {
				t.Fatalf("access token: %v", err)
			}
			aud, _ := claims.GetAudience()
			hasUserinfo := slices.Contains(aud, userinfoAud)
			if claims["sub"] != "auth0|"+tc.user || claims["azp"] != "native" || claims["scope"] != tc.wantScope ||
				hasUserinfo != strings.Contains(tc.scope, "openid") {
				t.Fatalf("access token claims %v", claims)
			}
			if _, ok := body["refresh_token"]; ok != tc.wantRefresh {
				t.Fatalf("refresh_token present %v, want %v", ok, tc.wantRefresh)
			}
			idTok, ok := body["id_token"].(string)
			if ok != tc.wantID {
				t.Fatalf("id_token present %v, want %v", ok, tc.wantID)
			}
			if !ok {
				return
			}
			id := f.verifyIDToken(idTok, "native")
			sum := sha256.Sum256([]byte(access))
			if id["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:16]) || id["nonce"] != params.Get("nonce") ||
				id["sub"] != "auth0|"+tc.user || int64(id["auth_time"].(float64)) != before.Unix() {
				t.Fatalf("ID token claims %v", id)
			}
			_, hasName := id["name"]
			_, hasEmail := id["email"]
			if hasName != strings.Contains(tc.scope, "profile") || hasEmail != strings.Contains(tc.scope, "email") {
				t.Fatalf("ID token profile/email claims %v for scope %q", id, tc.scope)
			}
			status, _, info := f.userinfo(access)
			if status != http.StatusOK || info["sub"] != "auth0|"+tc.user || (hasEmail && info["email"] != tc.user+"@example.com") {
				t.Fatalf("userinfo: %d %v", status, info)
			}
		})
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	_, challenge := pkce()
	tests := []struct {
		name   string
		change func(url.Values)
		// page: an HTML error page, never a redirect; else the redirect's error code.
		page    bool
		errCode string
	}{
		{"no client_id", func(v url.Values) { v.Del("client_id") }, true, ""},
		{"unknown client", func(v url.Values) { v.Set("client_id", "nobody") }, true, ""},
		{"client without redirect URIs", func(v url.Values) { v.Set("client_id", "cli") }, true, ""},
		{"no redirect_uri", func(v url.Values) { v.Del("redirect_uri") }, true, ""},
		{"two client_ids", func(v url.Values) { v.Add("client_id", "native") }, true, ""},
		{"another host", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/callback") }, true, ""},
		{"another path", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:53682/other") }, true, ""},
		{"user info trick", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:80@evil.example/callback") }, true, ""},
		{"subdomain trick", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1.evil.example/callback") }, true, ""},
		{"backslash", func(v url.Values) { v.Set("redirect_uri", `http://127.0.0.1:8080\@evil.example/callback`) }, true, ""},
		{"https loopback", func(v url.Values) { v.Set("redirect_uri", "https://127.0.0.1:53682/callback") }, true, ""},
		{"localhost is not a loopback literal", func(v url.Values) { v.Set("redirect_uri", "http://localhost:53682/callback") }, true, ""},
		{"added query", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:53682/callback?next=https://evil.example") }, true, ""},
		{"fragment", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:53682/callback#x") }, true, ""},
		{"spa port is exact", func(v url.Values) {
			v.Set("client_id", "spa")
			v.Set("redirect_uri", "http://localhost:3001/callback")
		}, true, ""},
		{"another client's redirect", func(v url.Values) { v.Set("redirect_uri", "http://localhost:3000/callback") }, true, ""},
		{"script in client_id", func(v url.Values) { v.Set("client_id", "<script>alert(1)</script>") }, true, ""},
		{"no response_type", func(v url.Values) { v.Del("response_type") }, false, "invalid_request"},
		{"implicit", func(v url.Values) { v.Set("response_type", "token") }, false, "unsupported_response_type"},
		{"no PKCE for a public client", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, false, "invalid_request"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, false, "invalid_request"},
		{"PKCE method left out (plain)", func(v url.Values) { v.Del("code_challenge_method") }, false, "invalid_request"},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, false, "invalid_request"},
		{"method without challenge", func(v url.Values) { v.Del("code_challenge") }, false, "invalid_request"},
		{"unknown scope", func(v url.Values) { v.Set("scope", "openid admin") }, false, "invalid_scope"},
		{"API scope without audience", func(v url.Values) { v.Del("audience") }, false, "invalid_scope"},
		{"unknown audience", func(v url.Values) { v.Set("audience", "https://other/api") }, false, "access_denied"},
		{"prompt=none", func(v url.Values) { v.Set("prompt", "none") }, false, "login_required"},
		{"two states", func(v url.Values) { v.Add("nonce", "again") }, false, "invalid_request"},
		{"response_mode fragment", func(v url.Values) { v.Set("response_mode", "fragment") }, false, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := nativeRequest(challenge, "openid read:messages")
			tc.change(params)
			resp, page := f.browser().authorize(params)
			if tc.page {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, `id="message"`) {
					t.Fatalf("want an HTML error page, got %d Location %q\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
				}
				if strings.Contains(page, "<script>") || strings.Contains(page, "evil.example/callback\"") {
					t.Fatalf("the page reflects input unescaped:\n%s", page)
				}
				checkPageHeaders(t, resp)
				return
			}
			q := redirectQuery(t, resp, page, params.Get("redirect_uri"))
			if q.Get("error") != tc.errCode || q.Get("error_description") == "" || q.Get("code") != "" {
				t.Fatalf("redirect query %v, want error %s", q, tc.errCode)
			}
			if want := params["state"]; q.Get("state") != want[0] {
				t.Fatalf("state %q, want %q", q.Get("state"), want[0])
			}
		})
	}
}

// checkPageHeaders asserts the security headers every login page carries.
func checkPageHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	h := resp.Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers %v", h)
	}
}

func TestLoginForm(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	_, challenge := pkce()
	params := nativeRequest(challenge, "openid")
	params.Set("state", `"><script>alert(1)</script>`)
	b := f.browser()
	resp, page := b.authorize(params)
	if resp.StatusCode != http.StatusOK || strings.Contains(page, "<script>") {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	checkPageHeaders(t, resp)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://127.0.0.1:53682;") {
		t.Fatalf("CSP %q must let the form's redirect reach the application", csp)
	}
	fields := formFields(t, page)
	if fields.Get("state") != params.Get("state") || fields.Get("redirect_uri") != params.Get("redirect_uri") {
		t.Fatalf("hidden fields %v", fields)
	}

	resp, page = b.submit(fields, "alice", "wrong", "login")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Wrong username or password") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, page)
	}
	resp, page = b.submit(fields, "nobody", "alice-password", "login")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
	resp, page = b.submit(formFields(t, page), "alice", "alice-password", "cancel")
	if q := redirectQuery(t, resp, page, params.Get("redirect_uri")); q.Get("error") != "access_denied" || q.Get("state") != params.Get("state") {
		t.Fatalf("cancel: %v", q)
	}
}

func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	f, clock := loginFixture(t)
	_, challenge := pkce()
	params := nativeRequest(challenge, "openid")
	b := f.browser()
	_, page := b.authorize(params)
	fields := formFields(t, page)
	other := nativeRequest(challenge, "openid read:messages")
	_, otherPage := f.browser().authorize(other)

	tests := []struct {
		name   string
		b      *browser
		fields func() url.Values
	}{
		{"no CSRF cookie (another browser)", f.browser(), func() url.Values { return fields }},
		{"no token", b, func() url.Values { v := clone(fields); v.Del("csrf"); return v }},
		{"forged token", b, func() url.Values { v := clone(fields); v.Set("csrf", "1."+strings.Repeat("0", 64)); return v }},
		{"parameters changed after the form was made", b, func() url.Values { v := clone(fields); v.Set("scope", "openid read:messages"); return v }},
		{"another browser's form", b, func() url.Values { return formFields(t, otherPage) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := tc.b.submit(tc.fields(), "alice", "alice-password", "login")
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" || !strings.Contains(page, "expired") {
				t.Fatalf("%d Location %q\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
			}
		})
	}
	clock.Advance(csrfMaxAge + time.Second)
	if resp, _ := b.submit(fields, "alice", "alice-password", "login"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an expired form: %d", resp.StatusCode)
	}
	resp, page := b.authorize(params)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	resp, page = b.submit(formFields(t, page), "alice", "alice-password", "login")
	redirectQuery(t, resp, page, params.Get("redirect_uri"))
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	f, clock := loginFixture(t)
	_, challenge := pkce()
	params := nativeRequest(challenge, "openid")
	b := f.browser()
	_, page := b.authorize(params)
	fields := formFields(t, page)
	for i := range maxLoginFailures {
		if resp, _ := b.submit(fields, "alice", "guess", "login"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	resp, page := b.submit(fields, "alice", "alice-password", "login")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, "Too many") {
		t.Fatalf("after %d failures the right password: %d", maxLoginFailures, resp.StatusCode)
	}
	clock.Advance(loginWindow + time.Second)
	resp, page = b.submit(fields, "alice", "alice-password", "login")
	redirectQuery(t, resp, page, params.Get("redirect_uri"))
}

func TestAuthorizationCodeRefusals(t *testing.T) {
	t.Parallel()
	f, clock := loginFixture(t)
	tests := []struct {
		name     string
		clientID string
		redirect string // "" is the one sent to /authorize
		verifier func(good string) string
		advance  time.Duration
		code     string
	}{
		{"wrong verifier", "native", "", func(string) string { v, _ := pkce(); return v }, 0, "invalid_grant"},
		{"no verifier", "native", "", func(string) string { return "" }, 0, "invalid_grant"},
		{"malformed verifier", "native", "", func(string) string { return "short" }, 0, "invalid_grant"},
		{"another redirect_uri", "native", "http://127.0.0.1:9999/callback", func(g string) string { return g }, 0, "invalid_grant"},
		{"another client", "spa", "", func(g string) string { return g }, 0, "invalid_grant"},
		{"expired", "native", "", func(g string) string { return g }, authCodeTTL + time.Second, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			verifier, challenge := pkce()
			params := nativeRequest(challenge, "openid offline_access")
			q := f.browser().signIn(params, "alice", "alice-password")
			clock.Advance(tc.advance)
			redirect := tc.redirect
			if redirect == "" {
				redirect = params.Get("redirect_uri")
			}
			resp, body := f.exchange(tc.clientID, q.Get("code"), redirect, tc.verifier(verifier))
			wantOAuthError(t, resp, body, http.StatusBadRequest, tc.code)
			if tc.advance == 0 { // a failed attempt leaves the code to its rightful client
				resp, body = f.exchange("native", q.Get("code"), params.Get("redirect_uri"), verifier)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("the right exchange after a wrong one: %d %v", resp.StatusCode, body)
				}
			}
		})
	}
	if resp, body := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "client_id": {"native"}, "redirect_uri": {"x"}}); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("no code: %d %v", resp.StatusCode, body)
	}
}

func TestReusedCodeRevokesItsTokens(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	verifier, challenge := pkce()
	params := nativeRequest(challenge, "openid offline_access read:messages")
	q := f.browser().signIn(params, "alice", "alice-password")
	resp, first := f.exchange("native", q.Get("code"), params.Get("redirect_uri"), verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d %v", resp.StatusCode, first)
	}
	if status, _, _ := f.userinfo(first["access_token"].(string)); status != http.StatusOK {
		t.Fatalf("userinfo before reuse: %d", status)
	}
	resp, body := f.exchange("native", q.Get("code"), params.Get("redirect_uri"), verifier)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = f.refresh("native", first["refresh_token"].(string))
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	if status, ch, _ := f.userinfo(first["access_token"].(string)); status != http.StatusUnauthorized || !strings.Contains(ch, "invalid_token") {
		t.Fatalf("userinfo after the code's reuse: %d %q", status, ch)
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	first := f.loginTokens("alice", "alice-password", "openid profile offline_access read:messages")
	r1 := first["refresh_token"].(string)

	resp, second := f.refresh("native", r1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, second)
	}
	r2, _ := second["refresh_token"].(string)
	if r2 == "" || r2 == r1 || second["access_token"] == first["access_token"] {
		t.Fatalf("refresh did not rotate: %v", second)
	}
	if c := f.mustVerify(second["access_token"].(string)); c["scope"] != "openid profile offline_access read:messages" {
		t.Fatalf("refreshed token scope %v", c["scope"])
	}
	f.verifyIDToken(second["id_token"].(string), "native")

	resp, body := f.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {r2}})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = f.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "client_id": {"native"}, "refresh_token": {r2}, "scope": {"write:messages"}})
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_scope")

	resp, narrowed := f.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "client_id": {"native"}, "refresh_token": {r2}, "scope": {"openid"}})
	if resp.StatusCode != http.StatusOK || narrowed["scope"] != "openid" {
		t.Fatalf("narrowed refresh: %d %v", resp.StatusCode, narrowed)
	}
	r3 := narrowed["refresh_token"].(string)

	// r1 was used: presenting it again revokes the family, r3 included.
	resp, body = f.refresh("native", r1)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = f.refresh("native", r3)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	if status, _, _ := f.userinfo(narrowed["access_token"].(string)); status != http.StatusUnauthorized {
		t.Fatalf("userinfo after refresh reuse: %d", status)
	}
	// Another login is another family and is untouched.
	other := f.loginTokens("alice", "alice-password", "openid offline_access")
	if resp, body := f.refresh("native", other["refresh_token"].(string)); resp.StatusCode != http.StatusOK {
		t.Fatalf("another login's refresh: %d %v", resp.StatusCode, body)
	}
}

func TestUserinfoRefusals(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	noOpenID := f.loginTokens("alice", "alice-password", "profile", func(v url.Values) { v.Del("audience") })
	tests := []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"no token", "", http.StatusUnauthorized, `Bearer realm="tenant"`},
		{"not a JWT", "abc", http.StatusUnauthorized, `error="invalid_token"`},
		{"a machine token for the API", f.clientToken("quickstart-read", "read-secret"), http.StatusUnauthorized, `error="invalid_token"`},
		{"a minted token for /userinfo without sid", f.mint(MintRequest{Claims: map[string]any{"aud": f.issuer + "userinfo", "scope": "openid", "sub": "auth0|alice"}}),
			http.StatusUnauthorized, `error="invalid_token"`},
		{"no openid scope", noOpenID["access_token"].(string), http.StatusForbidden, `error="insufficient_scope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ch, _ := f.userinfo(tc.token)
			if status != tc.status || !strings.Contains(ch, tc.challenge) {
				t.Fatalf("%d %q, want %d %q", status, ch, tc.status, tc.challenge)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	spaLogin := func() map[string]any {
		verifier, challenge := pkce()
		params := url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"http://localhost:3000/callback"},
			"scope": {"openid offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		q := f.browser().signIn(params, "alice", "alice-password")
		resp, body := f.exchange("spa", q.Get("code"), params.Get("redirect_uri"), verifier)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("spa exchange: %d %v", resp.StatusCode, body)
		}
		return body
	}
	tokens := spaLogin()
	nativeID := f.loginTokens("alice", "alice-password", "openid")["id_token"].(string)
	tests := []struct {
		name     string
		path     string
		query    url.Values
		redirect string // "" means a page
		status   int
	}{
		{"oidc: registered, with state", PathOIDCLogout, url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {"http://localhost:3000/"}, "state": {"s1"}},
			"http://localhost:3000/?state=s1", http.StatusFound},
		{"oidc: client from id_token_hint", PathOIDCLogout, url.Values{"id_token_hint": {tokens["id_token"].(string)}, "post_logout_redirect_uri": {"http://localhost:3000/"}},
			"http://localhost:3000/", http.StatusFound},
		{"oidc: no target", PathOIDCLogout, url.Values{}, "", http.StatusOK},
		{"oidc: unregistered", PathOIDCLogout, url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {"https://evil.example/"}}, "", http.StatusBadRequest},
		{"oidc: prefix of a registered URL", PathOIDCLogout, url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {"http://localhost:3000/x"}}, "", http.StatusBadRequest},
		{"oidc: no client", PathOIDCLogout, url.Values{"post_logout_redirect_uri": {"http://localhost:3000/"}}, "", http.StatusBadRequest},
		{"oidc: hint of another client", PathOIDCLogout, url.Values{"id_token_hint": {nativeID}, "post_logout_redirect_uri": {"http://localhost:3000/"}}, "", http.StatusBadRequest},
		{"oidc: hint and client_id disagree", PathOIDCLogout, url.Values{"id_token_hint": {nativeID}, "client_id": {"spa"}}, "", http.StatusBadRequest},
		{"oidc: forged hint", PathOIDCLogout, url.Values{"id_token_hint": {"a.b.c"}, "client_id": {"spa"}}, "", http.StatusBadRequest},
		{"v2: registered", PathV2Logout, url.Values{"client_id": {"spa"}, "returnTo": {"http://localhost:3000/"}}, "http://localhost:3000/", http.StatusFound},
		{"v2: no returnTo", PathV2Logout, url.Values{}, "", http.StatusOK},
		{"v2: unregistered", PathV2Logout, url.Values{"client_id": {"spa"}, "returnTo": {"//evil.example/"}}, "", http.StatusBadRequest},
		{"v2: no client_id", PathV2Logout, url.Values{"returnTo": {"http://localhost:3000/"}}, "", http.StatusBadRequest},
		{"v2: client without logout URLs", PathV2Logout, url.Values{"client_id": {"native"}, "returnTo": {"http://localhost:3000/"}}, "", http.StatusBadRequest},
	}
	for _, tc := range tests {
		methods := []string{http.MethodGet}
		if tc.path == PathOIDCLogout {
			methods = append(methods, http.MethodPost) // RP-Initiated Logout §2: GET and POST (form-encoded)
		}
		for _, method := range methods {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				target, body := f.srv.URL+tc.path+"?"+tc.query.Encode(), ""
				if method == http.MethodPost {
					target, body = f.srv.URL+tc.path, tc.query.Encode()
				}
				resp, page := f.browser().send(method, target, body)
				if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.redirect {
					t.Fatalf("%d Location %q, want %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.redirect, page)
				}
				if tc.redirect == "" {
					checkPageHeaders(t, resp)
				}
			})
		}
	}
	// The id_token_hint logout above ended that login: its refresh token no longer works.
	resp, body := f.refresh("spa", tokens["refresh_token"].(string))
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}

func TestLoginCORS(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	tests := []struct {
		name, method, path, origin string
		status                     int
		allowed                    bool
	}{
		{"token preflight, spa origin", http.MethodOptions, PathToken, "http://localhost:3000", http.StatusNoContent, true},
		{"userinfo preflight, spa origin", http.MethodOptions, PathUserinfo, "http://localhost:3000", http.StatusNoContent, true},
		{"preflight, other origin", http.MethodOptions, PathToken, "https://evil.example", http.StatusForbidden, false},
		{"preflight, null origin", http.MethodOptions, PathToken, "null", http.StatusForbidden, false},
		{"preflight, origin with a path", http.MethodOptions, PathToken, "http://localhost:3000/", http.StatusForbidden, false},
		{"token, spa origin", http.MethodPost, PathToken, "http://localhost:3000", http.StatusBadRequest, true},
		{"token, other origin", http.MethodPost, PathToken, "http://localhost:3001", http.StatusBadRequest, false},
		{"userinfo, spa origin", http.MethodGet, PathUserinfo, "http://localhost:3000", http.StatusUnauthorized, true},
		// Discovery and the JWKS are public documents every browser app reads, as Auth0 serves them: "*".
		{"discovery, any origin", http.MethodGet, PathOpenIDConfiguration, "https://evil.example", http.StatusOK, true},
		{"RFC 8414 metadata, any origin", http.MethodGet, PathOAuthServerMetadata, "http://localhost:3000", http.StatusOK, true},
		{"JWKS, any origin", http.MethodGet, PathJWKS, "http://localhost:3000", http.StatusOK, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Origin": {tc.origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}
			ct := ""
			if tc.method == http.MethodPost {
				ct = "application/x-www-form-urlencoded"
			}
			resp, raw := f.do(tc.method, tc.path, ct, "", h)
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			want := tc.origin
			if strings.HasPrefix(tc.path, "/.well-known/") {
				want = "*"
			}
			if resp.StatusCode != tc.status || (acao == want) != tc.allowed || (acao != "" && acao != want) {
				t.Fatalf("%d ACAO %q, want %d allowed=%v: %s", resp.StatusCode, acao, tc.status, tc.allowed, raw)
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials must never be allowed")
			}
			if want != "*" && !slices.Contains(resp.Header.Values("Vary"), "Origin") {
				t.Fatalf("Vary %v", resp.Header.Values("Vary"))
			}
			if tc.method == http.MethodOptions && tc.allowed && (!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") ||
				(tc.path == PathToken && !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "DPoP"))) {
				t.Fatalf("preflight headers %v", resp.Header)
			}
		})
	}
}

// TestLogoutHintMustBeAnIDToken: id_token_hint must be an ID token (OIDC RP-Initiated Logout 1.0 §2). An access
// token of the same login, which every API it is sent to holds, must not end that login.
func TestLogoutHintMustBeAnIDToken(t *testing.T) {
	t.Parallel()
	f, _ := loginFixture(t)
	tests := []struct {
		name, scope string
		change      func(url.Values)
	}{
		{"access token for /userinfo only", "openid offline_access", func(v url.Values) { v.Del("audience") }},
		{"access token for the API and /userinfo", "openid offline_access read:messages", nil},
		{"access token for the API only", "offline_access read:messages", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var change []func(url.Values)
			if tc.change != nil {
				change = append(change, tc.change)
			}
			tokens := f.loginTokens("alice", "alice-password", tc.scope, change...)
			for _, q := range []url.Values{
				{"id_token_hint": {tokens["access_token"].(string)}},
				{"id_token_hint": {tokens["access_token"].(string)}, "client_id": {"native"}},
			} {
				resp, page := f.browser().send(http.MethodGet, f.srv.URL+PathOIDCLogout+"?"+q.Encode(), "")
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("access token as id_token_hint (%v): %d, want 400\n%s", q.Has("client_id"), resp.StatusCode, page)
				}
			}
			if resp, body := f.refresh("native", tokens["refresh_token"].(string)); resp.StatusCode != http.StatusOK {
				t.Fatalf("an access token as id_token_hint ended the login: refresh %d %v", resp.StatusCode, body)
			}
		})
	}
}
