// Package teststack starts the project's real parts in-process for tests: the stand-in tenant and the API (the
// same apiserver.NewHandler wiring the server binary runs), each on a loopback httptest server. Tests of the
// client, the conformance suite and the end-to-end wiring share it instead of each assembling the same stack.
package teststack

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/apiserver"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/serverconfig"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// Audience is the API identifier of the tenant's built-in default configuration.
const Audience = local.Audience

// Tenant starts the stand-in tenant with its built-in configuration; opts.Issuer is set to the server's own URL.
// The issuer is srv.URL + "/".
func Tenant(tb testing.TB, opts tenant.Options) (*httptest.Server, *tenant.Tenant) {
	tb.Helper()
	return TenantWithConfig(tb, tenant.DefaultConfig(), opts)
}

// TenantWithConfig is Tenant with cfg instead of the built-in configuration, e.g. a browser client registered
// for a test server's origin.
func TenantWithConfig(tb testing.TB, cfg *tenant.Config, opts tenant.Options) (*httptest.Server, *tenant.Tenant) {
	tb.Helper()
	srv := httptest.NewServer(nil)
	tb.Cleanup(srv.Close)
	opts.Issuer = srv.URL + "/"
	tn, err := tenant.New(cfg, opts)
	if err != nil {
		tb.Fatalf("tenant.New: %v", err)
	}
	srv.Config.Handler = tn.Handler()
	return srv, tn
}

// APIOptions adjusts the API under test; the zero value is the server's defaults trusting the tenant.
type APIOptions struct {
	// Auth edits the validator's configuration after the defaults (issuer, Audience, leeway, cache) are set.
	Auth func(*auth.Config)
	// AuthOptions tune the validator, e.g. a fast unknown-kid refetch for rotation tests.
	AuthOptions []auth.Option
	// Router sets the router's scope, origins, logger and registry; its Auth field is ignored (the API's own
	// validator guards it).
	Router api.Options
	// Wrap, if set, wraps the router, e.g. to build a deliberately broken API around the real one.
	Wrap func(http.Handler) http.Handler
	// SelfResource makes the RFC 9728 metadata's resource the API's own URL (RESOURCE_URL), as a client that
	// fetched it from that URL requires (RFC 9728 §3.3); otherwise it is the server's default, the audience.
	SelfResource bool
}

// API starts the real API trusting issuer and waits until its key set has loaded.
func API(tb testing.TB, issuer string, o APIOptions) (*httptest.Server, *auth.Validator) {
	tb.Helper()
	gin.SetMode(gin.TestMode) // what the server binary's release mode is to production: no debug output
	cfg := &serverconfig.Config{
		Issuer:              issuer,
		Audiences:           []string{Audience},
		AllowInsecureIssuer: true,
		CORSAllowedOrigins:  []string{serverconfig.DefaultCORSAllowedOrigins},
		ClockSkew:           serverconfig.DefaultClockSkew,
		RequiredScope:       serverconfig.DefaultRequiredScope,
		JWKSRefreshInterval: serverconfig.DefaultJWKSRefreshInterval,
		TokenCacheSize:      serverconfig.DefaultTokenCacheSize,
	}
	if o.Router.RequiredScope != "" {
		cfg.RequiredScope = o.Router.RequiredScope
	}
	if o.Router.AllowedOrigins != nil {
		cfg.CORSAllowedOrigins = o.Router.AllowedOrigins
	}
	logger := o.Router.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []apiserver.Option{
		apiserver.WithLogger(logger),
		apiserver.WithAuthOptions(append([]auth.Option{auth.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond)}, o.AuthOptions...)...),
		apiserver.WithAuthConfig(o.Auth),
		apiserver.WithHandlerWrapper(o.Wrap),
	}
	if o.Router.Registry != nil {
		opts = append(opts, apiserver.WithRegistry(o.Router.Registry))
	}
	srv := httptest.NewUnstartedServer(nil) // its address is known now, its handler set below
	if o.SelfResource {
		cfg.ResourceURL = "http://" + srv.Listener.Addr().String()
	}
	h, err := apiserver.NewHandler(context.Background(), cfg, opts...)
	if err != nil {
		srv.Close()
		tb.Fatalf("apiserver.NewHandler: %v", err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	for deadline := time.Now().Add(10 * time.Second); !h.Validator.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			srv.Close()
			tb.Fatalf("the API never loaded the key set of %s", issuer)
		}
	}
	srv.Config.Handler = h
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv, h.Validator
}
