package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/pkg/tenant"
)

func init() { register(newTenantCmd) }

// tenantShutdownGrace is how long in-flight requests get to finish once the tenant is told to stop.
const tenantShutdownGrace = 10 * time.Second

// tenantOptions are client tenant's flags.
type tenantOptions struct {
	addr, issuer, config, keyFile string
}

func newTenantCmd(a *app) *cobra.Command {
	o := &tenantOptions{}
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Run a stand-in Auth0 tenant for development and tests",
		Long: `tenant runs a stand-in for an Auth0 tenant so tokens, the API and the test suite work offline. It is for
development and tests only: anyone who can reach it can mint any token at /dev/mint.

Endpoints (Auth0's paths): /.well-known/openid-configuration, /.well-known/oauth-authorization-server,
/.well-known/jwks.json, POST /oauth/token (client_credentials and the device flow), POST /oauth/device/code,
GET|POST /activate (approve a device), POST /dev/mint (any claims, signed RS256 by the tenant's key) and
POST /dev/rotate (a new signing key; the previous one stays published until the next rotation).

--issuer is written into every token's iss and into discovery; endpoint URLs in discovery follow the Host the
request came in on, so one tenant serves http://tenant:4000/ inside docker compose and http://localhost:4000/
from the host. Without --config the contract's built-in default applies (clients quickstart-read/read-secret,
quickstart-write, quickstart-readwrite, quickstart-noscope, the public client cli, the user alice). Without
--key-file the keys live in memory and change at every start.

Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 2 on a bad flag, config file, key file or address.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:4000", "`HOST:PORT` to listen on")
	f.StringVar(&o.issuer, "issuer", "http://localhost:4000/", "public issuer `URL` written into iss and discovery")
	f.StringVar(&o.config, "config", "", "YAML `FILE` of APIs, clients and users (default: the built-in default)")
	f.StringVar(&o.keyFile, "key-file", "", "PEM `FILE` keeping the signing keys across restarts (created if missing)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.runTenant(cmd.Context(), o) }
	return cmd
}

func (a *app) runTenant(ctx context.Context, o *tenantOptions) error {
	issuer, err := tenant.NormalizeIssuer(o.issuer)
	if err != nil {
		return usageErrorf("%w", err)
	}
	cfg, source := tenant.DefaultConfig(), "built-in default"
	if o.config != "" {
		if cfg, err = tenant.LoadConfig(o.config); err != nil {
			return usageErrorf("bad --config: %w", err)
		}
		source = o.config
	}
	handler := slog.NewTextHandler(a.stderr, nil)
	log := slog.New(handler)
	t, err := tenant.New(cfg, tenant.Options{Issuer: issuer, KeyFile: o.keyFile, Logger: log})
	if err != nil {
		return usageErrorf("%w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.addr)
	if err != nil {
		return usageErrorf("cannot listen on --addr %s: %w", o.addr, err)
	}
	srv := &http.Server{
		Handler:           t.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	keys := o.keyFile
	if keys == "" {
		keys = "in memory (new keys at every start; use --key-file to keep them)"
	}
	log.Warn("STAND-IN TENANT FOR DEVELOPMENT AND TESTS ONLY: anyone who can reach it can mint tokens; never expose it")
	log.Info("tenant listening", "addr", ln.Addr().String(), "issuer", issuer, "config", source, "keys", keys)
	base := "http://" + ln.Addr().String()
	for _, ep := range []struct{ name, path string }{
		{"discovery", tenant.PathOpenIDConfiguration},
		{"jwks", tenant.PathJWKS},
		{"token", tenant.PathToken},
		{"device_authorization", tenant.PathDeviceCode},
		{"activate", tenant.PathActivate},
		{"mint", tenant.PathMint},
		{"rotate", tenant.PathRotate},
	} {
		log.Info("endpoint", "name", ep.name, "url", base+ep.path)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("tenant stopped serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tenantShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("tenant shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("tenant stopped serving: %w", err)
	}
	log.Info("tenant stopped")
	return nil
}
