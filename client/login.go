package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/internal/browser"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// loginOptions are the flags of `client login`.
type loginOptions struct {
	scope     string
	noBrowser bool
	wait      time.Duration
	timeout   time.Duration
}

func newLoginCmd(a *app) *cobra.Command {
	o := &loginOptions{}
	var conn *connOptions
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign a user in (authorization code + PKCE in a browser) and keep their tokens",
		Long: `Sign a user in at the tenant named by --issuer / ISSUER_URL (or AUTH0_DOMAIN): authorization code with PKCE
through a loopback redirect (RFC 8252). The login URL is always printed on stderr, and opened in a browser when
there is one (--no-browser: print only). The command waits for the browser to come back to
http://127.0.0.1:<free port>/callback, exchanges the code and stores the access, ID and refresh tokens in the token
cache, beside (never mixed with) client-credential tokens.

Afterwards 'client token --user' prints the user's access token and 'client call --user PATH' sends it, refreshing
it first when it is about to expire; 'client logout' forgets it.

  client login --issuer http://localhost:4000/ --audience https://quickstarts/api     # alice / alice-password
  client login --no-browser --scope "openid profile offline_access read:messages"

--client-id defaults to the stand-in's native client; against Auth0 use a Native application that allows the
callback http://127.0.0.1/callback. No client secret is sent. Without --audience the access token is good only at
the tenant's /userinfo.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLogin(cmd.Context(), conn, o) },
	}
	conn = a.addConnFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.scope, "scope", tokens.DefaultLoginScope, "space-separated scopes to ask for (offline_access gives a refresh token)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "only print the login URL; do not try to open a browser")
	f.DurationVar(&o.wait, "wait", tokens.DefaultLoginTimeout, "how long to wait for the browser to come back")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each HTTP request")
	return cmd
}

// loginClientID is the client a user login uses: --client-id / AUTH0_CLIENT_ID, else the stand-in's native one.
func loginClientID(conn *connOptions) string {
	if conn.ClientID != "" {
		return conn.ClientID
	}
	return tokens.DefaultLoginClientID
}

// userKey is where conn's user login lives in the token cache.
func userKey(conn *connOptions) tokens.CacheKey {
	return tokens.UserCacheKey(conn.IssuerURL(), loginClientID(conn), conn.Audience)
}

func (a *app) runLogin(ctx context.Context, conn *connOptions, o *loginOptions) error {
	switch {
	case conn.IssuerURL() == "":
		return usageErrorf("no issuer: set --issuer or ISSUER_URL (or AUTH0_DOMAIN)")
	case o.wait <= 0:
		return usageErrorf("--wait must be positive, got %s", o.wait)
	case o.timeout <= 0:
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	cache := a.tokenCache(&tokenOptions{})
	if cache == nil {
		return errors.New("no token cache to keep the login in: set XDG_CACHE_HOME to a writable directory")
	}
	hc := a.tokenHTTPClient(conn, o.timeout)
	d, err := tokens.Discover(ctx, hc, conn.IssuerURL())
	if err != nil {
		return err
	}
	if conn.Audience == "" {
		fmt.Fprintln(a.stderr, "client: no --audience / AUTH0_AUDIENCE: the access token will be good only at the tenant's /userinfo")
	}
	req := tokens.LoginRequest{
		ClientID: loginClientID(conn), Audience: conn.Audience, Scope: o.scope, Timeout: o.wait,
		ShowURL: func(u string) {
			fmt.Fprintf(a.stderr, "Open this URL in a browser to sign in (client %s):\n\n  %s\n\nWaiting up to %s for the browser to come back…\n",
				loginClientID(conn), u, o.wait)
		},
	}
	if !o.noBrowser {
		req.OpenBrowser = func(ctx context.Context, u string) error { return browser.Open(ctx, a.getenv, u) }
	}
	tok, err := tokens.Login(ctx, hc, d, req)
	switch {
	case errors.Is(err, tokens.ErrLoginTimeout):
		return fmt.Errorf("%w (--wait %s); run client login again", err, o.wait)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted before the login finished")
	case err != nil:
		if le, ok := errors.AsType[*tokens.LoginError](err); ok && le.Code == "invalid_scope" {
			return fmt.Errorf("%w; check --scope against the API's scopes (--audience)", err)
		}
		return err
	}
	if err := cache.Put(userKey(conn), tok); err != nil {
		return fmt.Errorf("signed in, but the tokens could not be stored: %w", err)
	}
	sub := "the user"
	if _, claims, err := tokens.DecodeUnverified(tok.AccessToken); err == nil {
		if s, ok := claims["sub"].(string); ok {
			sub = s
		}
	}
	fmt.Fprintf(a.stdout, "Logged in as %s (scope %q); the access token expires %s.\n", sub, tok.Scope, tok.Expiry.Local().Format(time.RFC3339))
	if tok.RefreshToken == "" {
		fmt.Fprintln(a.stderr, "client: no refresh token (ask for offline_access): run client login again when the access token expires")
	}
	return nil
}

// userToken is `--user`'s token: the login's access token, refreshed when near expiry. cached reports that the
// tenant was not asked.
func (a *app) userToken(ctx context.Context, conn *connOptions, hc *http.Client, o *tokenOptions) (*tokens.Token, bool, error) {
	switch {
	case conn.IssuerURL() == "":
		return nil, false, usageErrorf("no issuer: set --issuer or ISSUER_URL (or AUTH0_DOMAIN)")
	case o.device:
		return nil, false, usageErrorf("--user and --device contradict each other: --user uses the login of client login")
	case o.scope != "":
		return nil, false, usageErrorf("--scope cannot be used with --user: the scopes were chosen at client login")
	case o.noCache:
		return nil, false, usageErrorf("--no-cache cannot be used with --user: the login lives in the token cache")
	}
	cache := a.tokenCache(o)
	if cache == nil {
		return nil, false, errors.New("no token cache, so no login: set XDG_CACHE_HOME to a writable directory and run client login")
	}
	key := userKey(conn)
	tok, refreshed, err := tokens.UserToken(ctx, hc, cache, key, func() (*tokens.Discovery, error) {
		return tokens.Discover(ctx, hc, conn.IssuerURL())
	})
	switch {
	case errors.Is(err, tokens.ErrNotLoggedIn):
		if conn.Verbose {
			fmt.Fprintf(a.stderr, "client: %v\n", err)
		}
		return nil, false, usageErrorf("not logged in at %s as client %s for audience %q: run client login (with the same --issuer, --client-id and --audience)",
			key.Issuer, key.ClientID, key.Audience)
	case errors.Is(err, tokens.ErrLoginExpired):
		return nil, false, fmt.Errorf("%w; run client login again (with offline_access in --scope to stay logged in)", err)
	case err != nil:
		return nil, false, explainRefreshError(err)
	}
	if refreshed && conn.Verbose {
		fmt.Fprintln(a.stderr, "client: the access token was near expiry; refreshed it (the new refresh token is stored)")
	}
	return tok, !refreshed, nil
}

// logoutOptions are the flags of `client logout`.
type logoutOptions struct {
	endSession bool
	timeout    time.Duration
}

func newLogoutCmd(a *app) *cobra.Command {
	o := &logoutOptions{}
	var conn *connOptions
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the user's tokens from client login",
		Long: `Forget the tokens 'client login' stored for --issuer, --client-id and --audience. With --end-session the
tenant's end_session_endpoint is called too (no browser needed), with the ID token as hint: the stand-in tenant then
revokes the login's refresh tokens. Logging out when not logged in is not an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLogout(cmd.Context(), conn, o) },
	}
	conn = a.addConnFlags(cmd)
	cmd.Flags().BoolVar(&o.endSession, "end-session", false, "also call the tenant's end_session_endpoint (OIDC RP-initiated logout)")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each HTTP request")
	return cmd
}

func (a *app) runLogout(ctx context.Context, conn *connOptions, o *logoutOptions) error {
	if conn.IssuerURL() == "" {
		return usageErrorf("no issuer: set --issuer or ISSUER_URL (or AUTH0_DOMAIN)")
	}
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	cache := a.tokenCache(&tokenOptions{})
	if cache == nil {
		return errors.New("no token cache: set XDG_CACHE_HOME")
	}
	key := userKey(conn)
	tok, err := cache.LoadStale(key)
	if err != nil {
		if !errors.Is(err, tokens.ErrNotCached) {
			_ = cache.Delete(key) // unusable anyway
		}
		fmt.Fprintln(a.stdout, "Not logged in.")
		return nil
	}
	if err := cache.Delete(key); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "Logged out: the tokens are forgotten.")
	if !o.endSession {
		return nil
	}
	if tok.IDToken == "" {
		// Without an id_token_hint the end_session_endpoint cannot tell which login to end: its refresh tokens
		// would stay good at the tenant while this said the session was ended.
		return errors.New("the tokens are forgotten, but the tenant's session was not ended: the login has no ID token " +
			"(it was made without openid in --scope) to name it to the end_session_endpoint")
	}
	hc := a.tokenHTTPClient(conn, o.timeout)
	d, err := tokens.Discover(ctx, hc, conn.IssuerURL())
	if err == nil {
		err = tokens.EndSession(ctx, hc, d, key.ClientID, tok.IDToken)
	}
	if err != nil {
		return fmt.Errorf("the tokens are forgotten, but the tenant's session was not ended: %w", err)
	}
	fmt.Fprintln(a.stdout, "The tenant ended the session.")
	return nil
}
