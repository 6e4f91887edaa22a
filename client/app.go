package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/internal/httpserve"
	"github.com/tokencheck/tokencheck/pkg/webapp"
)

// appShutdownGrace is how long in-flight requests get to finish once the web app is told to stop.
const appShutdownGrace = 5 * time.Second

// appOptions are client app's flags.
type appOptions struct {
	addr string
	cfg  webapp.Config
}

// appSettings maps each web app setting to its flag and environment variable, for help and error messages.
var appSettings = map[webapp.Setting]struct{ flag, env string }{
	webapp.SettingAPIURL:    {"api-url", "APP_API_URL"},
	webapp.SettingIssuerURL: {"issuer-url", "APP_ISSUER_URL"},
	webapp.SettingClientID:  {"client-id", "APP_CLIENT_ID"},
	webapp.SettingAudience:  {"audience", "APP_AUDIENCE"},
	webapp.SettingScope:     {"scope", "APP_SCOPE"},
}

func newAppCmd(a *app) *cobra.Command {
	o := &appOptions{}
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Serve the web app: log in in the browser and call the API with and without the token",
		Long: `app serves a one-page web app, the browser version of Auth0's "Calling APIs" sample: it logs a user in
with the authorization code flow and PKCE (in the browser, as a public client with no secret), then calls the
API's /api/public, /api/private and /api/private-scoped with and without the access token and shows the status
code, the body and the WWW-Authenticate challenge.

With the stand-in tenant and the API on their default ports, open http://localhost:3000 and log in as alice /
alice-password (bob / bob-password has no scopes). The page must be opened as http://localhost or over https:
browsers give WebCrypto, which PKCE needs, only to secure contexts. The API must allow the page's origin for
CORS (its default CORS_ALLOWED_ORIGINS is http://localhost:3000), and the tenant's client must register
<origin>/callback as a redirect URI and <origin>/ as a logout return.

Each flag defaults to its environment variable.

Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 2 on a bad flag, variable or address.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runApp(cmd.Context(), o) },
	}
	env := func(name, def string) string {
		if v := a.getenv(name); v != "" {
			return v
		}
		return def
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", webapp.DefaultAddr, "`HOST:PORT` to listen on")
	f.StringVar(&o.cfg.APIURL, "api-url", env("APP_API_URL", webapp.DefaultAPIURL),
		"base `URL` of the API, as the browser reaches it (env APP_API_URL)")
	f.StringVar(&o.cfg.IssuerURL, "issuer-url", env("APP_ISSUER_URL", webapp.DefaultIssuerURL),
		"issuer `URL`, as the browser reaches it; discovery is read from it (env APP_ISSUER_URL)")
	f.StringVar(&o.cfg.ClientID, "client-id", env("APP_CLIENT_ID", webapp.DefaultClientID),
		"the tenant's public browser client (env APP_CLIENT_ID)")
	f.StringVar(&o.cfg.Audience, "audience", env("APP_AUDIENCE", webapp.DefaultAudience),
		"API identifier the access token is asked for (env APP_AUDIENCE)")
	f.StringVar(&o.cfg.Scope, "scope", env("APP_SCOPE", webapp.DefaultScope),
		"scopes the login asks for; must include openid (env APP_SCOPE)")
	return cmd
}

// appConfigError words a webapp configuration error for the user: the flag and variable to fix.
func appConfigError(err error) error {
	var msgs []error
	for _, e := range flattenErrors(err) {
		if ce, ok := errors.AsType[*webapp.ConfigError](e); ok {
			if s, known := appSettings[ce.Setting]; known {
				msgs = append(msgs, fmt.Errorf("--%s / %s %q %s", s.flag, s.env, ce.Value, ce.Reason))
				continue
			}
		}
		msgs = append(msgs, e)
	}
	return usageErrorf("%w", errors.Join(msgs...))
}

// flattenErrors lists the errors joined in err (errors.Join), or err alone.
func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok { //nolint:errorlint // looking at the join itself
		return j.Unwrap()
	}
	return []error{err}
}

func (a *app) runApp(ctx context.Context, o *appOptions) error {
	h, err := webapp.New(o.cfg)
	if err != nil {
		return appConfigError(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.addr)
	if err != nil {
		return usageErrorf("cannot listen on --addr %s: %w", o.addr, err)
	}
	handler := slog.NewTextHandler(a.stderr, nil)
	log := slog.New(handler)
	srv := webapp.NewServer(h)
	srv.ErrorLog = slog.NewLogLogger(handler, slog.LevelWarn)
	log.Info("web app listening", "addr", ln.Addr().String(), "api", o.cfg.APIURL, "issuer", o.cfg.IssuerURL,
		"client_id", o.cfg.ClientID, "audience", o.cfg.Audience)

	if err := httpserve.Serve(ctx, srv, ln, httpserve.Options{Grace: appShutdownGrace, Logger: log, Stopped: "web app stopped"}); err != nil {
		return fmt.Errorf("web app: %w", err)
	}
	return nil
}
