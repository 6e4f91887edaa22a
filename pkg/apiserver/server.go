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

	"github.com/tokencheck/tokencheck/internal/httpserve"
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
	editAuth        func(*auth.Config)
	registry        *prometheus.Registry
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

// WithHTTPClient is the client used to reach the issuer (default: pkg/auth's, bounded by auth.DefaultHTTPTimeout).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithAuthConfig edits the validator's configuration after it is derived from serverconfig.Config, for tests
// and embedders that need a setting no variable exposes.
func WithAuthConfig(edit func(*auth.Config)) Option { return func(o *options) { o.editAuth = edit } }

// WithRegistry collects metrics in reg instead of a fresh registry with the Go and process collectors.
func WithRegistry(reg *prometheus.Registry) Option { return func(o *options) { o.registry = reg } }

// Handler is the API's whole HTTP wiring (validator, router, metrics registry), built once by NewHandler for the
// server binary and for in-process tests alike, so both run exactly the same stack.
type Handler struct {
	http.Handler
	// Validator guards the private routes; callers wait on its Ready before sending tokens.
	Validator *auth.Validator
	// Registry holds every metric /metrics serves: runtime, HTTP and auth.
	Registry *prometheus.Registry
	stop     context.CancelFunc
}

// Close stops the validator's background key-set work; in-flight validations keep the keys already loaded.
func (h *Handler) Close() error {
	h.stop()
	return h.Validator.Close()
}

// NewHandler builds the validator and the router from cfg. The validator's background work lives until Close,
// not until ctx ends, so requests still in flight during a graceful shutdown keep their keys.
func NewHandler(ctx context.Context, cfg *serverconfig.Config, opts ...Option) (*Handler, error) {
	if cfg == nil {
		return nil, ErrNoConfig
	}
	o := newOptions(opts)
	reg := o.registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	acfg := auth.Config{
		Issuer:          cfg.Issuer,
		Issuers:         cfg.ExtraIssuers,
		Audiences:       cfg.Audiences,
		JWKSURL:         cfg.JWKSURL,
		AllowInsecure:   cfg.AllowInsecureIssuer,
		ClockSkew:       cfg.ClockSkew,
		RefreshInterval: cfg.JWKSRefreshInterval,
		CacheSize:       cfg.TokenCacheSize,
		HTTPClient:      o.httpClient,
		Logger:          o.logger,
		Registerer:      reg,
		DPoP: auth.DPoPConfig{
			Mode:      cfg.DPoPMode,
			Algs:      cfg.DPoPAlgs,
			IATWindow: cfg.DPoPIATWindow,
		},
		PublicURL:            cfg.PublicURL,
		TrustProxy:           cfg.TrustProxy,
		ResourceMetadataPath: api.ResourceMetadataPath,
	}
	if o.editAuth != nil {
		o.editAuth(&acfg)
	}
	authCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	v, err := auth.New(authCtx, acfg, o.authOptions...)
	if err != nil {
		stop()
		return nil, fmt.Errorf("apiserver: cannot set up token validation: %w", err)
	}
	var h http.Handler = api.NewRouter(api.Options{
		Auth:           v,
		RequiredScope:  cfg.RequiredScope,
		AllowedOrigins: cfg.CORSAllowedOrigins,
		Logger:         o.logger,
		Registry:       reg,
		ResourceURL:    cfg.ResourceURL,
	})
	if o.wrap != nil {
		h = o.wrap(h)
	}
	return &Handler{Handler: h, Validator: v, Registry: reg, stop: stop}, nil
}

// ErrNoConfig means Run or NewHandler was called without a configuration.
var ErrNoConfig = errors.New("apiserver: no configuration; load one with serverconfig.Load")

func newOptions(opts []Option) options {
	o := options{shutdownTimeout: DefaultShutdownTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	return o
}

// Run serves the API until ctx is cancelled, then stops accepting connections, closes idle ones, lets in-flight
// requests finish within the shutdown timeout, and returns nil. It returns an error if it cannot start, if
// serving fails, or if the shutdown deadline passes with requests still running.
func Run(ctx context.Context, cfg *serverconfig.Config, opts ...Option) error {
	if cfg == nil {
		return ErrNoConfig
	}
	o := newOptions(opts)
	h, err := NewHandler(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = h.Close() }()

	ln := o.listener
	if ln == nil {
		lc := net.ListenConfig{}
		ln, err = lc.Listen(ctx, "tcp", ":"+strconv.Itoa(cfg.Port))
		if err != nil {
			return &ListenError{Port: cfg.Port, Err: err}
		}
	}

	maxConns := cfg.MaxConnections
	if maxConns <= 0 {
		maxConns = serverconfig.DefaultMaxConnections
	}
	ln = newRefusalWatcher(o.logger, h.Registry).listen(newLimitListener(ln, maxConns))

	srv := newHTTPServer(h, o.logger, o.timeouts)
	o.logger.LogAttrs(ctx, slog.LevelInfo, "server starting",
		slog.String("addr", ln.Addr().String()),
		slog.Int("port", cfg.Port),
		slog.String("issuer", cfg.Issuer),
		slog.Any("issuers", cfg.Issuers()),
		slog.Any("audiences", cfg.Audiences),
		slog.String("jwks_url", cfg.JWKSURL),
		slog.Bool("allow_insecure_issuer", cfg.AllowInsecureIssuer),
		slog.Any("cors_allowed_origins", cfg.CORSAllowedOrigins),
		slog.String("required_scope", cfg.RequiredScope),
		slog.String("clock_skew", cfg.ClockSkew.String()),
		slog.String("jwks_refresh_interval", cfg.JWKSRefreshInterval.String()),
		slog.Int("token_cache_size", cfg.TokenCacheSize),
		slog.Int("max_connections", maxConns),
		slog.String("dpop_mode", string(h.Validator.DPoPMode())),
		slog.Any("dpop_algs", h.Validator.DPoPAlgs()),
		slog.String("public_url", cfg.PublicURL),
		slog.Bool("trust_proxy", cfg.TrustProxy),
	)
	if err := httpserve.Serve(ctx, srv, ln, httpserve.Options{Grace: o.shutdownTimeout, Logger: o.logger, Stopped: "server stopped"}); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	return nil
}

// ListenError means the server could not listen on its port, usually because another process holds it.
type ListenError struct {
	// Port is the configured port.
	Port int
	// Err is the operating system's reason.
	Err error
}

// Error names the port and the PORT setting that chose it (serverconfig.Config.Port), so the fix is obvious.
func (e *ListenError) Error() string {
	return fmt.Sprintf("apiserver: cannot listen on port %d (PORT): %v; pick a free port", e.Port, e.Err)
}

// Unwrap exposes the operating system's error.
func (e *ListenError) Unwrap() error { return e.Err }

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
