// Package apiserver runs the API: it builds the validator and the router from a serverconfig.Config, serves HTTP
// with hardened timeouts, and shuts down gracefully. It holds the server binary's logic so tests run it in-process.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/serverconfig"
)

// HTTP server limits: generous for real clients, short enough that slow or oversized requests cannot pin resources.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 15 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	// DefaultMaxHeaderBytes bounds request headers; bigger ones get 431 from net/http (which adds 4 KiB of slack).
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultShutdownTimeout is how long in-flight requests may take to finish after a shutdown signal.
	DefaultShutdownTimeout = 20 * time.Second
	// issuerTimeout bounds each discovery or JWKS request to the tenant.
	issuerTimeout = 10 * time.Second
)

// Option tunes Run; defaults suit production, options let tests and embedders shorten or observe.
type Option func(*options)

// Timeouts are the http.Server limits; zero fields keep the defaults above.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

type options struct {
	timeouts        Timeouts
	listener        net.Listener
	logger          *slog.Logger
	shutdownTimeout time.Duration
	wrap            func(http.Handler) http.Handler
	authOptions     []auth.Option
	httpClient      *http.Client
}

// WithListener serves on ln instead of listening on the configured port (tests use 127.0.0.1:0).
func WithListener(ln net.Listener) Option { return func(o *options) { o.listener = ln } }

// WithTimeouts overrides the server's read/write/idle limits (tests shorten them to prove they hold).
func WithTimeouts(t Timeouts) Option { return func(o *options) { o.timeouts = t } }

// WithLogger sends the JSON log somewhere other than stdout.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithShutdownTimeout bounds how long a graceful shutdown waits for in-flight requests.
func WithShutdownTimeout(d time.Duration) Option { return func(o *options) { o.shutdownTimeout = d } }

// WithHandlerWrapper wraps the router, e.g. to add tracing; it sees every request before the router.
func WithHandlerWrapper(wrap func(http.Handler) http.Handler) Option {
	return func(o *options) { o.wrap = wrap }
}

// WithAuthOptions passes tuning options to auth.New (tests shorten retry backoffs with it).
func WithAuthOptions(opts ...auth.Option) Option {
	return func(o *options) { o.authOptions = append(o.authOptions, opts...) }
}

// WithHTTPClient is the client used to reach the issuer (default: one with a 10s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// Run serves the API until ctx is cancelled, then stops accepting connections, closes idle ones, lets in-flight
// requests finish within the shutdown timeout, and returns nil. It returns an error if it cannot start, if
// serving fails, or if the shutdown deadline passes with requests still running.
func Run(ctx context.Context, cfg *serverconfig.Config, opts ...Option) error {
	if cfg == nil {
		return errors.New("apiserver: no configuration; load one with serverconfig.Load")
	}
	o := options{shutdownTimeout: DefaultShutdownTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{Timeout: issuerTimeout}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The validator outlives ctx by the shutdown: in-flight requests still need their keys.
	authCtx, stopAuth := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAuth()
	v, err := auth.New(authCtx, auth.Config{
		Issuer:          cfg.Issuer,
		Audiences:       cfg.Audiences,
		JWKSURL:         cfg.JWKSURL,
		AllowInsecure:   cfg.AllowInsecureIssuer,
		ClockSkew:       cfg.ClockSkew,
		RefreshInterval: cfg.JWKSRefreshInterval,
		CacheSize:       cfg.TokenCacheSize,
		HTTPClient:      o.httpClient,
		Logger:          o.logger,
		Registerer:      reg,
	}, o.authOptions...)
	if err != nil {
		return fmt.Errorf("apiserver: cannot set up token validation: %w", err)
	}
	defer func() { _ = v.Close() }()

	var handler http.Handler = api.NewRouter(api.Options{
		Auth:           v,
		RequiredScope:  cfg.RequiredScope,
		AllowedOrigins: cfg.CORSAllowedOrigins,
		Logger:         o.logger,
		Registry:       reg,
	})
	if o.wrap != nil {
		handler = o.wrap(handler)
	}

	ln := o.listener
	if ln == nil {
		lc := net.ListenConfig{}
		ln, err = lc.Listen(ctx, "tcp", ":"+strconv.Itoa(cfg.Port))
		if err != nil {
			return fmt.Errorf("apiserver: cannot listen on port %d (PORT): %w; pick a free port", cfg.Port, err)
		}
	}

	srv := newHTTPServer(handler, o.logger, o.timeouts)
	o.logger.LogAttrs(ctx, slog.LevelInfo, "server starting",
		slog.String("addr", ln.Addr().String()),
		slog.Int("port", cfg.Port),
		slog.String("issuer", cfg.Issuer),
		slog.Any("audiences", cfg.Audiences),
		slog.String("jwks_url", cfg.JWKSURL),
		slog.Bool("allow_insecure_issuer", cfg.AllowInsecureIssuer),
		slog.Any("cors_allowed_origins", cfg.CORSAllowedOrigins),
		slog.String("required_scope", cfg.RequiredScope),
		slog.Duration("clock_skew", cfg.ClockSkew),
		slog.Duration("jwks_refresh_interval", cfg.JWKSRefreshInterval),
		slog.Int("token_cache_size", cfg.TokenCacheSize),
	)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("apiserver: serving stopped: %w", err)
	case <-ctx.Done():
	}

	o.logger.Info("shutting down: no new connections, waiting for in-flight requests",
		slog.Duration("timeout", o.shutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("apiserver: requests still running after %s, connections closed: %w", o.shutdownTimeout, err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("apiserver: serving stopped: %w", err)
	}
	o.logger.Info("server stopped")
	return nil
}

// newHTTPServer applies the timeouts and header limit; net/http's own errors go to the JSON log as warnings.
func newHTTPServer(h http.Handler, logger *slog.Logger, t Timeouts) *http.Server {
	pick := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: pick(t.ReadHeader, DefaultReadHeaderTimeout),
		ReadTimeout:       pick(t.Read, DefaultReadTimeout),
		WriteTimeout:      pick(t.Write, DefaultWriteTimeout),
		IdleTimeout:       pick(t.Idle, DefaultIdleTimeout),
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
