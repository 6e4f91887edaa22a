package tokens

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// Defaults of a user login.
const (
	// DefaultLoginTimeout is how long Login waits for the browser to come back to the loopback listener.
	DefaultLoginTimeout = 5 * time.Minute
	// DefaultLoginScope asks for an ID token, the profile and email claims, a refresh token and the quickstart
	// API's read scope.
	DefaultLoginScope = "openid profile email offline_access read:messages"
	// DefaultLoginClientID is the stand-in tenant's native (loopback redirect) client.
	DefaultLoginClientID = "native"
	// CallbackPath is the loopback redirect URI's path; the stand-in's native client registers
	// http://127.0.0.1/callback, which matches on any port.
	CallbackPath = "/callback"
)

// GrantUser is the CacheKey.Grant of a user's login, so its entry never mixes with client credentials or device
// tokens.
const GrantUser = "authorization_code"

// UserCacheKey is where a user's tokens for issuer, client and audience live in the cache. The scope is not part
// of it: the login is found whatever scope it was made with.
func UserCacheKey(issuer, clientID, audience string) CacheKey {
	return CacheKey{Issuer: issuer, ClientID: clientID, Audience: audience, Grant: GrantUser}
}

// LoginRequest is one authorization code login (RFC 6749 §4.1 with PKCE, RFC 7636) through a loopback redirect
// (RFC 8252 §7.3).
type LoginRequest struct {
	ClientID string
	Audience string // Auth0's API identifier; "" gets a token good only at /userinfo
	Scope    string
	// ShowURL is given the authorization URL once the listener is ready; it must not block.
	ShowURL func(authURL string)
	// OpenBrowser, if set, is asked to open the URL after ShowURL; its failure is not Login's.
	OpenBrowser func(ctx context.Context, authURL string) error
	// Timeout bounds the wait for the browser; zero means DefaultLoginTimeout.
	Timeout time.Duration
}

// LoginError is the tenant's error redirect (RFC 6749 §4.1.2.1), or the user cancelling.
type LoginError struct {
	Code, Description string
}

func (e *LoginError) Error() string {
	msg := "the tenant refused the login (" + e.Code + ")"
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// ErrLoginTimeout is Login's answer when the browser did not come back in time.
var ErrLoginTimeout = errors.New("timed out waiting for the browser to come back from the login page")

// callbackResult is what the loopback listener received.
type callbackResult struct {
	code string
	err  error
}

// Login signs a user in: it listens on 127.0.0.1 on a free port, shows (and maybe opens) d's authorization URL
// with PKCE S256, state and nonce, waits for the one redirect whose state matches, exchanges the code with the
// verifier and checks the ID token (signature against d's JWKS, iss, aud, nonce). The token it returns carries
// the refresh and ID tokens.
func Login(ctx context.Context, hc *http.Client, d *Discovery, r LoginRequest) (*Token, error) {
	switch {
	case d == nil || d.AuthorizationEndpoint == "":
		return nil, errors.New("the tenant's discovery document has no authorization_endpoint, so it cannot sign users in")
	case d.TokenEndpoint == "":
		return nil, errors.New("the tenant's discovery document has no token_endpoint")
	case r.ClientID == "":
		return nil, fmt.Errorf("%w: a native application with a loopback redirect URI is needed", ErrNoClientID)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on a loopback port for the login redirect: %w", err)
	}
	redirectURI := fmt.Sprintf("http://%s%s", ln.Addr().String(), CallbackPath)
	cfg := &oauth2.Config{
		ClientID:    r.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirectURI,
		Scopes:      strings.Fields(r.Scope),
	}
	verifier, state, nonce := oauth2.GenerateVerifier(), randomString(), randomString()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)}
	if r.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", r.Audience))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	results := make(chan callbackResult, 1)
	srv := &http.Server{
		Handler:           callbackHandler(state, results),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // lets the "you can close this tab" page finish
	}()

	if r.ShowURL != nil {
		r.ShowURL(authURL)
	}
	if r.OpenBrowser != nil {
		_ = r.OpenBrowser(ctx, authURL)
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var res callbackResult
	select {
	case res = <-results:
	case <-timer.C:
		return nil, ErrLoginTimeout
	case <-ctx.Done():
		return nil, fmt.Errorf("login interrupted: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	otok, err := cfg.Exchange(withClient(ctx, hc), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenErr(d.TokenEndpoint, err)
	}
	tok := fromOAuth2(otok)
	switch {
	case tok.IDToken != "":
		if err := verifyIDToken(ctx, hc, d, r.ClientID, nonce, tok.IDToken); err != nil {
			return nil, err
		}
	case slices.Contains(cfg.Scopes, "openid"):
		// OIDC Core §3.1.3.3: asked for with openid, the ID token is what the nonce, iss and aud are checked on.
		return nil, &IDTokenError{Err: errors.New("openid was asked for but the token response has no id_token")}
	}
	return tok, nil
}

// callbackPage is the small page the browser shows once it has handed the code over.
var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

// callbackHandler accepts one redirect to CallbackPath whose state equals want (compared in constant time) and
// sends its code or error to results; any other request is refused and does not end the wait, so a stray or forged
// request cannot abort a login.
func callbackHandler(want string, results chan<- callbackResult) http.Handler {
	done := make(chan struct{}, 1) // holds a token until the first good redirect takes it
	done <- struct{}{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		page := func(status int, title, msg string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_ = callbackPage.Execute(w, struct{ Title, Message string }{title, msg})
		}
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != CallbackPath ||
			subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(want)) != 1 {
			page(http.StatusBadRequest, "Not this login", "This address only accepts the redirect of the login in progress.")
			return
		}
		select {
		case <-done:
		default:
			page(http.StatusGone, "Already signed in", "This login has already finished. You can close this tab.")
			return
		}
		if code := q.Get("error"); code != "" {
			results <- callbackResult{err: &LoginError{Code: code, Description: q.Get("error_description")}}
			page(http.StatusOK, "Sign-in failed", "The tenant answered "+code+". You can close this tab and return to the terminal.")
			return
		}
		if q.Get("code") == "" {
			results <- callbackResult{err: errors.New("the login redirect carried neither a code nor an error")}
			page(http.StatusBadRequest, "Sign-in failed", "The redirect carried no code. Return to the terminal.")
			return
		}
		results <- callbackResult{code: q.Get("code")}
		page(http.StatusOK, "Signed in", "You can close this tab and return to the terminal.")
	})
}

// randomString is 32 random bytes, base64url: state and nonce.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// IDTokenError says why an ID token from the tenant was refused.
type IDTokenError struct{ Err error }

func (e *IDTokenError) Error() string { return "the tenant's ID token is not valid: " + e.Err.Error() }

// Unwrap gives the underlying error.
func (e *IDTokenError) Unwrap() error { return e.Err }

// verifyIDToken checks an ID token as OIDC Core §3.1.3.7 asks: signed (RS256) by a key of d's JWKS, iss is d's
// issuer, aud holds the client, unexpired, and nonce is the one sent.
func verifyIDToken(ctx context.Context, hc *http.Client, d *Discovery, clientID, nonce, idToken string) error {
	if d.JWKSURI == "" {
		return &IDTokenError{Err: errors.New("the discovery document has no jwks_uri to check it with")}
	}
	raw, err := fetchJWKS(ctx, hc, d.JWKSURI)
	if err != nil {
		return &IDTokenError{Err: err}
	}
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		return &IDTokenError{Err: fmt.Errorf("JWKS at %s: %w", d.JWKSURI, err)}
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(idToken, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(d.Issuer), jwt.WithAudience(clientID), jwt.WithExpirationRequired(), jwt.WithLeeway(time.Minute)); err != nil {
		return &IDTokenError{Err: err}
	}
	if got, _ := claims["nonce"].(string); subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return &IDTokenError{Err: errors.New("its nonce is not the one this login sent")}
	}
	return nil
}

// fetchJWKS reads a key set, bounded in size (and in time by hc).
func fetchJWKS(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build JWKS request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, unreachable("JWKS", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("read JWKS %s: %w", u, err)
	}
	return body, nil
}
