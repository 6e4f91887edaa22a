// Package api is tokencheck's Gin router: the quickstart routes, health and metrics, the protected resource
// metadata (RFC 9728), CORS, request ids, access logging and recovery. Token validation is pkg/auth's: the router takes an *auth.Validator, whose middleware,
// scope check and log attributes work together on one request state, so no other implementation can be plugged
// in half-way.
package api

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

// DefaultRequiredScope is the scope the scoped routes demand unless Options.RequiredScope says otherwise.
const DefaultRequiredScope = local.Scope

// DefaultAllowedOrigin is the browser origin CORS allows unless Options.AllowedOrigins says otherwise.
const DefaultAllowedOrigin = local.AppOrigin

// maxRequestBody bounds what any handler or middleware may read from a request body; the API takes none.
const maxRequestBody = 64 << 10

// Options configures NewRouter; the zero value of each field picks the contract's default.
type Options struct {
	// Auth guards the private routes; nil makes them answer 503 and /readyz report not ready.
	Auth *auth.Validator
	// RequiredScope is demanded by the scoped routes (default read:messages).
	RequiredScope string
	// AllowedOrigins are the CORS origins, "*" for any (default http://localhost:3000).
	AllowedOrigins []string
	// Logger receives the JSON access log (default: discard).
	Logger *slog.Logger
	// Registry collects the HTTP metrics served on /metrics (default: a fresh registry).
	Registry *prometheus.Registry
	// ResourceURL is the resource identifier in the protected resource metadata (default: Auth's first audience).
	ResourceURL string
}

// NewRouter builds the API with every route of the contract. It never panics on bad options: invalid origins are
// skipped with a warning in the log. It leaves Gin's process-wide mode alone; the binary sets it.
func NewRouter(opts Options) *gin.Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.RequiredScope == "" {
		opts.RequiredScope = DefaultRequiredScope
	}
	if opts.AllowedOrigins == nil {
		opts.AllowedOrigins = []string{DefaultAllowedOrigin}
	}
	authenticate, ready := unavailable, func() bool { return false }
	if opts.Auth != nil {
		authenticate, ready = opts.Auth.Middleware(), opts.Auth.Ready
	}

	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Redirects would turn a typo into a 301 that clients follow with their token; answer 404 instead.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	_ = r.SetTrustedProxies(nil) // nil never fails: ClientIP is the socket peer, not a spoofable header.

	m := newMetrics(opts.Registry)
	// observe sits outside recovery so a recovered panic is still logged and counted as the 500 it became.
	r.Use(
		requestID(),
		observe(opts.Logger, m),
		recovery(opts.Logger),
		limitBody(maxRequestBody),
		corsMiddleware(opts.AllowedOrigins, opts.Logger),
	)
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(ready))
	r.GET("/metrics", gin.WrapH(metricsHandler(opts.Registry)))

	r.GET(ResourceMetadataPath, metadataHandler(opts.Auth, opts.ResourceURL, opts.RequiredScope))
	r.GET("/api/public", jsonBody(publicBody))
	r.GET("/ping", jsonBody(pingBody))

	private := r.Group("", authenticate)
	private.GET("/api/private", jsonBody(privateBody))
	private.GET("/secured/ping", jsonBody(securedPingBody))
	private.GET("/api/private-scoped", auth.RequireScope(opts.RequiredScope), jsonBody(scopedBody(opts.RequiredScope)))
	return r
}

// unavailable stands in for a missing validator: it fails closed, never open.
func unavailable(c *gin.Context) {
	c.Header("Retry-After", auth.RetryAfter)
	writeError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "token validation is not configured on this server")
}
