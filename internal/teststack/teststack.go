// Package teststack starts the project's real parts in-process for tests: the stand-in tenant and the API (the
// pkg/api router guarded by the pkg/auth validator), each on a loopback httptest server. Tests of the client, the
// conformance suite and the end-to-end wiring share it instead of each assembling the same stack.
package teststack

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// Audience is the API identifier of the tenant's built-in default configuration.
const Audience = "https://quickstarts/api"

// Tenant starts the stand-in tenant with its built-in configuration; opts.Issuer is set to the server's own URL.
// The issuer is srv.URL + "/".
func Tenant(tb testing.TB, opts tenant.Options) (*httptest.Server, *tenant.Tenant) {
	tb.Helper()
	srv := httptest.NewServer(nil)
	tb.Cleanup(srv.Close)
	opts.Issuer = srv.URL + "/"
	tn, err := tenant.New(tenant.DefaultConfig(), opts)
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
	// Router is passed to api.NewRouter; its Auth field is filled in.
	Router api.Options
	// Wrap, if set, wraps the router, e.g. to build a deliberately broken API around the real one.
	Wrap func(http.Handler) http.Handler
}

// API starts the real API trusting issuer and waits until its key set has loaded.
func API(tb testing.TB, issuer string, o APIOptions) (*httptest.Server, *auth.Validator) {
	tb.Helper()
	cfg := auth.Config{
		Issuer:        issuer,
		Audiences:     []string{Audience},
		AllowInsecure: true,
		ClockSkew:     auth.DefaultClockSkew,
		CacheSize:     auth.DefaultCacheSize,
		Logger:        slog.New(slog.DiscardHandler),
	}
	if o.Auth != nil {
		o.Auth(&cfg)
	}
	opts := append([]auth.Option{auth.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond)}, o.AuthOptions...)
	v, err := auth.New(context.Background(), cfg, opts...)
	if err != nil {
		tb.Fatalf("auth.New: %v", err)
	}
	tb.Cleanup(func() { _ = v.Close() })
	for deadline := time.Now().Add(10 * time.Second); !v.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("the API never loaded the key set of %s", issuer)
		}
	}
	o.Router.Auth = v
	var h http.Handler = api.NewRouter(o.Router)
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv, v
}
