// Package serverconfig reads the API server's configuration from flags, the environment and a .env file, and
// validates all of it at once so an operator fixes every mistake in one go instead of one restart per typo.
package serverconfig

import (
	"log/slog"
	"slices"
	"time"

	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// Defaults of the contract, exported so docs, tests and callers agree on one value.
const (
	DefaultPort                = local.APIPort
	DefaultCORSAllowedOrigins  = api.DefaultAllowedOrigin
	DefaultClockSkew           = auth.DefaultClockSkew
	DefaultRequiredScope       = api.DefaultRequiredScope
	DefaultJWKSRefreshInterval = auth.DefaultRefreshInterval
	// DefaultTokenCacheSize is pkg/auth's bound (about 64 MiB worst case), so both packages agree on one value.
	DefaultTokenCacheSize = auth.DefaultCacheSize
	// DefaultMaxConnections bounds concurrent client connections, so a connection flood exhausts neither file
	// descriptors nor memory; well above what one instance serves at its measured rate.
	DefaultMaxConnections = 4096
	// DefaultLogFlushInterval is how long the server binary may hold log lines before writing them to stdout in one
	// write: one system call per batch rather than per request, at the price of up to this much delay (and loss, if
	// the process is killed outright).
	DefaultLogFlushInterval = 100 * time.Millisecond
	// DefaultDPoPMode is pkg/auth's: bearer and DPoP-bound tokens both accepted.
	DefaultDPoPMode = auth.DefaultDPoPMode
	// DefaultDPoPIATWindow is pkg/dpop's: how old a proof may be, and how long its jti is remembered.
	DefaultDPoPIATWindow = dpop.DefaultIATWindow
)

// DefaultDPoPAlgs are pkg/dpop's default proof algorithms.
func DefaultDPoPAlgs() []string { return dpop.DefaultAlgs() }

// Config is the validated server configuration; every field is ready to use as is.
type Config struct {
	// Port is the TCP port to listen on (PORT).
	Port int
	// Issuer is the exact expected iss: ISSUER_URL, else https://<AUTH0_DOMAIN>/ (the first, for a list).
	Issuer string
	// ExtraIssuers are the rest of an ISSUER_URL or AUTH0_DOMAIN list (custom domains of one tenant, say); nil for
	// one issuer. Each has its own key set.
	ExtraIssuers []string
	// Audiences are the accepted API identifiers (AUTH0_AUDIENCE); a token's aud must contain one.
	Audiences []string
	// JWKSURL is the key set URL (JWKS_URL); empty means discover it from the issuer.
	JWKSURL string
	// AllowInsecureIssuer permits http:// issuer and JWKS URLs, for the stand-in tenant only.
	AllowInsecureIssuer bool
	// CORSAllowedOrigins are the browser origins allowed to call the API (CORS_ALLOWED_ORIGINS).
	CORSAllowedOrigins []string
	// ClockSkew is the leeway on exp, nbf and iat (CLOCK_SKEW).
	ClockSkew time.Duration
	// RequiredScope is the scope the scoped routes demand (REQUIRED_SCOPE).
	RequiredScope string
	// JWKSRefreshInterval is how often the key set is refetched to learn of removed keys.
	JWKSRefreshInterval time.Duration
	// TokenCacheSize is the number of verified tokens cached; 0 disables the cache.
	TokenCacheSize int
	// MaxConnections bounds concurrent client connections (MAX_CONNECTIONS); 0 means DefaultMaxConnections.
	MaxConnections int
	// LogFlushInterval is the longest a log line waits in the server binary's stdout buffer (LOG_FLUSH_INTERVAL):
	// 0 means DefaultLogFlushInterval, a negative value (LOG_FLUSH_INTERVAL=0) writes every line at once. Run and
	// NewHandler do not use it: they log to whatever logger they are given.
	LogFlushInterval time.Duration
	// LogLevel is the least level the server binary logs (LOG_LEVEL); the zero value is Info.
	LogLevel slog.Level
	// TrustProxy takes the request's scheme and host from X-Forwarded-Proto/-Host (TRUST_PROXY).
	TrustProxy bool
	// PublicURL is the API's external origin, the base of DPoP htu and resource_metadata (PUBLIC_URL); empty
	// means the request's own.
	PublicURL string
	// ResourceURL is the resource identifier of the protected resource metadata (RESOURCE_URL); empty means the
	// first audience.
	ResourceURL string
	// DPoPMode is disabled, allowed or required (DPOP_MODE); empty means DefaultDPoPMode.
	DPoPMode auth.DPoPMode
	// DPoPAlgs are the accepted proof algorithms (DPOP_ALGS); nil means DefaultDPoPAlgs.
	DPoPAlgs []string
	// DPoPIATWindow is the accepted proof age (DPOP_IAT_WINDOW); zero means DefaultDPoPIATWindow.
	DPoPIATWindow time.Duration
}

// Issuers are all trusted issuers: Issuer, then ExtraIssuers.
func (c *Config) Issuers() []string {
	if c.Issuer == "" {
		return slices.Clone(c.ExtraIssuers)
	}
	return append([]string{c.Issuer}, c.ExtraIssuers...)
}
