package auth

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// Defaults applied when the corresponding Config field is zero.
const (
	// DefaultClockSkew tolerates small clock differences between issuer and API on exp, nbf and iat.
	DefaultClockSkew = 30 * time.Second
	// DefaultRefreshInterval bounds how long a key removed from the JWKS keeps verifying tokens.
	DefaultRefreshInterval = 10 * time.Minute
	// DefaultHTTPTimeout bounds every call to the issuer so a slow tenant never stalls a goroutine for long.
	DefaultHTTPTimeout = 5 * time.Second
	// DefaultCacheMaxAge bounds how long a verified token is trusted without re-verification, even if exp is later.
	DefaultCacheMaxAge = 10 * time.Minute
	// DefaultUnknownKIDInterval allows one JWKS refetch per interval for tokens with an unknown kid, i.e. about four
	// a minute however many forged kids arrive (after an initial burst of DefaultUnknownKIDBurst).
	DefaultUnknownKIDInterval = 15 * time.Second
	// DefaultUnknownKIDBurst lets a rotation be learned at once even right after a forged kid used one refetch.
	DefaultUnknownKIDBurst = 2
	// DefaultUnknownKIDWaitMax is the longest a request waits for the unknown-kid limiter and the refetch together.
	DefaultUnknownKIDWaitMax = time.Second
	// DefaultRetryMin is the first backoff between attempts to load the key set at start; it doubles each time.
	DefaultRetryMin = 100 * time.Millisecond
	// DefaultRetryMax caps the start-up backoff so the API becomes ready within seconds of the tenant coming up.
	DefaultRetryMax = 3 * time.Second
	// RetryAfterSeconds is the Retry-After value sent with 503 while no key set has loaded.
	RetryAfterSeconds = 5
	// Realm is the realm of every Bearer challenge this package writes.
	Realm = "api"
)

// Config is what the server knows from its environment. Zero durations take the defaults above; CacheSize 0
// disables the verified-token cache (use DefaultCacheSize for the default).
type Config struct {
	// Issuer is the exact iss every token must carry, e.g. "https://tenant.auth0.com/".
	Issuer string
	// Issuers are further trusted issuers (an Auth0 tenant with custom domains); each gets its own key set, and a
	// token's iss picks one. Issuer, when set, comes first; duplicates are dropped.
	Issuers []string
	// Audiences are the API identifiers; a token's aud must contain at least one.
	Audiences []string
	// JWKSURL overrides discovery; empty means discovery's jwks_uri, else <issuer>.well-known/jwks.json. It is
	// refused with more than one issuer: one key set for several issuers would let any of them sign for the others.
	JWKSURL string
	// AllowInsecure permits http:// issuer and JWKS URLs, for the local stand-in tenant only.
	AllowInsecure bool
	// ClockSkew is the leeway on exp, nbf and iat; zero means none (CLOCK_SKEW=0s must be honoured), so callers
	// wanting the usual leeway pass DefaultClockSkew.
	ClockSkew time.Duration
	// RefreshInterval is how often the JWKS is refetched so removed keys stop verifying.
	RefreshInterval time.Duration
	// CacheSize bounds the verified-token cache in entries; 0 disables it.
	CacheSize int
	// HTTPClient talks to the issuer; nil means a client with DefaultHTTPTimeout. Its timeout is kept.
	HTTPClient *http.Client
	// Logger receives key-set events (never tokens); nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the tokencheck_* metrics; nil means no registration.
	Registerer prometheus.Registerer
	// DPoP says whether and how DPoP-bound tokens (RFC 9449) are accepted; the zero value is DPoPAllowed with
	// pkg/dpop's defaults.
	DPoP DPoPConfig
	// PublicURL is the API's external origin (scheme://host[:port], no path), the base of a DPoP proof's htu and
	// of resource_metadata; empty means the request's own scheme and Host (see TrustProxy).
	PublicURL string
	// TrustProxy takes the scheme and host from X-Forwarded-Proto and X-Forwarded-Host when PublicURL is empty;
	// only set it behind a proxy that overwrites those headers, or clients choose what htu must be.
	TrustProxy bool
	// ResourceMetadataPath, when set, adds resource_metadata="<base URL><path>" (RFC 9728 §5.1) to every
	// challenge; set it where the router serves the protected resource metadata.
	ResourceMetadataPath string
}

// DPoPMode says whether DPoP-bound tokens are accepted, and whether only they are.
type DPoPMode string

// DPoP modes.
const (
	// DPoPDisabled treats the DPoP scheme as unknown (a request without credentials).
	DPoPDisabled DPoPMode = "disabled"
	// DPoPAllowed accepts bearer tokens and DPoP-bound tokens with their proofs.
	DPoPAllowed DPoPMode = "allowed"
	// DPoPRequired accepts only DPoP-bound tokens with their proofs.
	DPoPRequired DPoPMode = "required"
	// DefaultDPoPMode is the mode of a zero DPoPConfig.
	DefaultDPoPMode = DPoPAllowed
)

// DPoPConfig tunes DPoP; zero fields take pkg/dpop's defaults (algorithms, iat window, replay cache cap).
type DPoPConfig struct {
	// Mode is disabled, allowed or required (default DefaultDPoPMode).
	Mode DPoPMode
	// Algs are the accepted proof algorithms (default dpop.DefaultAlgs()).
	Algs []string
	// IATWindow is how old a proof may be and how long its jti is remembered (default dpop.DefaultIATWindow).
	IATWindow time.Duration
	// MaxReplayEntries caps the proof replay cache (default dpop.DefaultMaxReplayEntries).
	MaxReplayEntries int
}

// Option tunes behaviour that deployments rarely change but tests and benchmarks need to shorten.
type Option func(*options)

type options struct {
	now                func() time.Time
	httpTimeout        time.Duration
	cacheMaxAge        time.Duration
	unknownKIDInterval time.Duration
	unknownKIDBurst    int
	unknownKIDWaitMax  time.Duration
	retryMin, retryMax time.Duration
	maxBodyBytes       int64
}

func defaultOptions() options {
	return options{
		now:                time.Now,
		httpTimeout:        DefaultHTTPTimeout,
		cacheMaxAge:        DefaultCacheMaxAge,
		unknownKIDInterval: DefaultUnknownKIDInterval,
		unknownKIDBurst:    DefaultUnknownKIDBurst,
		unknownKIDWaitMax:  DefaultUnknownKIDWaitMax,
		retryMin:           DefaultRetryMin,
		retryMax:           DefaultRetryMax,
		maxBodyBytes:       1 << 20,
	}
}

// WithClock replaces time.Now, so tests can judge exp/nbf/iat and cache ages at a chosen instant.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithHTTPTimeout bounds each discovery or JWKS request (default DefaultHTTPTimeout).
func WithHTTPTimeout(d time.Duration) Option { return func(o *options) { o.httpTimeout = d } }

// WithCacheMaxAge bounds how long a cached validation is reused (default DefaultCacheMaxAge).
func WithCacheMaxAge(d time.Duration) Option { return func(o *options) { o.cacheMaxAge = d } }

// WithUnknownKIDRefetch sets the unknown-kid refetch limiter: one refetch per interval, burst at most, and the
// longest a request may wait for limiter plus refetch (capped at one second so no request stalls longer).
func WithUnknownKIDRefetch(interval time.Duration, burst int, waitMax time.Duration) Option {
	return func(o *options) {
		o.unknownKIDInterval, o.unknownKIDBurst, o.unknownKIDWaitMax = interval, burst, min(waitMax, time.Second)
	}
}

// WithRetryBackoff sets the backoff between start-up attempts to load the key set (doubling from minimum to maximum).
func WithRetryBackoff(minimum, maximum time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax = minimum, maximum }
}

// Causes of a ConfigError, for errors.Is; callers with their own settings (environment variables, flags) map them
// onto their own wording.
var (
	// ErrEmpty means a required field is empty (or, for Audiences, has an empty entry).
	ErrEmpty = errors.New("is empty")
	// ErrNegative means a duration or size is negative.
	ErrNegative = errors.New("is negative")
	// ErrNotAbsoluteURL means a URL is not an absolute http(s) URL.
	ErrNotAbsoluteURL = errors.New("is not an absolute http(s) URL")
	// ErrURLExtras means a URL carries credentials, a query or a fragment, which no issuer URL has.
	ErrURLExtras = errors.New("must not carry credentials, a query or a fragment")
	// ErrURLPath means a URL that must be an origin (PublicURL) has a path.
	ErrURLPath = errors.New("must be scheme://host[:port] without a path")
	// ErrJWKSURLSeveralIssuers means JWKSURL was set together with more than one issuer.
	ErrJWKSURLSeveralIssuers = errors.New("names one key set but several issuers are configured")
	// ErrDPoPMode means DPoP.Mode is not disabled, allowed or required.
	ErrDPoPMode = errors.New("is not disabled, allowed or required")
	// ErrDPoPAlg means an entry of DPoP.Algs is not an asymmetric algorithm pkg/dpop verifies.
	ErrDPoPAlg = errors.New("is not a supported asymmetric JWS algorithm")
)

// ConfigError is one invalid Config field; New joins all of them so every mistake is reported at once.
type ConfigError struct {
	// Field is the Config field, e.g. "Issuer".
	Field string
	// Value is the offending value as text (empty for missing values).
	Value string
	// Err is the cause: ErrEmpty, ErrNegative, ErrNotAbsoluteURL, ErrURLExtras or ErrInsecureURL.
	Err error
}

// Error names the field, its value and the cause.
func (e *ConfigError) Error() string {
	msg := "auth: " + e.Field
	if e.Value != "" {
		msg += " " + strconv.Quote(e.Value)
	}
	// Field names only: the server's configuration (pkg/serverconfig) words its variables itself.
	switch {
	case errors.Is(e.Err, ErrInsecureURL):
		return msg + " uses http: use https, or set AllowInsecure for a local stand-in tenant"
	case e.Field == "Audiences" && errors.Is(e.Err, ErrEmpty) && e.Value != "":
		return msg + " has an empty entry"
	}
	return msg + " " + e.Err.Error()
}

// Unwrap exposes the cause for errors.Is.
func (e *ConfigError) Unwrap() error { return e.Err }

// validate checks cfg and fills defaults, naming every bad field at once.
func (cfg *Config) validate() error {
	var errs []error
	bad := func(field, value string, err error) {
		errs = append(errs, &ConfigError{Field: field, Value: value, Err: err})
	}
	var issuers []string
	for _, iss := range append([]string{cfg.Issuer}, cfg.Issuers...) {
		if iss != "" && !slices.Contains(issuers, iss) {
			issuers = append(issuers, iss)
		}
	}
	if len(issuers) == 0 {
		bad("Issuer", "", ErrEmpty)
	}
	for _, iss := range issuers {
		if err := CheckURL(iss, cfg.AllowInsecure); err != nil {
			bad("Issuer", iss, err)
		}
	}
	if len(cfg.Audiences) == 0 {
		bad("Audiences", "", ErrEmpty)
	}
	for _, a := range cfg.Audiences {
		if strings.TrimSpace(a) == "" {
			bad("Audiences", strings.Join(cfg.Audiences, ","), ErrEmpty)
			break
		}
	}
	if cfg.JWKSURL != "" {
		if err := CheckURL(cfg.JWKSURL, cfg.AllowInsecure); err != nil {
			bad("JWKSURL", cfg.JWKSURL, err)
		} else if len(issuers) > 1 {
			bad("JWKSURL", cfg.JWKSURL, ErrJWKSURLSeveralIssuers)
		}
	}
	switch cfg.DPoP.Mode {
	case "", DPoPDisabled, DPoPAllowed, DPoPRequired:
	default:
		bad("DPoP.Mode", string(cfg.DPoP.Mode), ErrDPoPMode)
	}
	for _, a := range cfg.DPoP.Algs {
		if !dpop.Supported(a) {
			bad("DPoP.Algs", a, ErrDPoPAlg)
		}
	}
	if cfg.DPoP.IATWindow < 0 {
		bad("DPoP.IATWindow", cfg.DPoP.IATWindow.String(), ErrNegative)
	}
	if cfg.PublicURL != "" {
		if err := CheckPublicURL(cfg.PublicURL); err != nil {
			bad("PublicURL", cfg.PublicURL, err)
		}
	}
	if cfg.ClockSkew < 0 {
		bad("ClockSkew", cfg.ClockSkew.String(), ErrNegative)
	}
	if cfg.RefreshInterval < 0 {
		bad("RefreshInterval", cfg.RefreshInterval.String(), ErrNegative)
	}
	if cfg.CacheSize < 0 {
		bad("CacheSize", strconv.Itoa(cfg.CacheSize), ErrNegative)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	cfg.Issuer, cfg.Issuers = issuers[0], issuers
	if cfg.DPoP.Mode == "" {
		cfg.DPoP.Mode = DefaultDPoPMode
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// CheckURL is the one rule for issuer and JWKS URLs, shared with pkg/serverconfig so configuration is judged once:
// an absolute http(s) URL without credentials, query or fragment, and https unless allowInsecure.
func CheckURL(raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return ErrNotAbsoluteURL
	case u.User != nil || u.Fragment != "" || u.RawQuery != "":
		return ErrURLExtras
	case u.Scheme == "http" && !allowInsecure:
		return ErrInsecureURL
	}
	return nil
}

// CheckPublicURL is the rule for PublicURL, shared with pkg/serverconfig: an absolute http(s) origin, no
// credentials, query, fragment or path (a trailing slash is allowed).
func CheckPublicURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return ErrNotAbsoluteURL
	case u.User != nil || u.Fragment != "" || u.RawQuery != "" || u.ForceQuery:
		return ErrURLExtras
	case u.Path != "" && u.Path != "/":
		return ErrURLPath
	}
	return nil
}
