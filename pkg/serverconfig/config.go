// Package serverconfig reads the API server's configuration from flags, the environment and a .env file, and
// validates all of it at once so an operator fixes every mistake in one go instead of one restart per typo.
package serverconfig

import (
	"log/slog"
	"time"

	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

// Defaults of the contract, exported so docs, tests and callers agree on one value.
const (
	DefaultPort                = 3010
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
)

// Config is the validated server configuration; every field is ready to use as is.
type Config struct {
	// Port is the TCP port to listen on (PORT).
	Port int
	// Issuer is the exact expected iss: ISSUER_URL, else https://<AUTH0_DOMAIN>/.
	Issuer string
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
}
