// Package tenant is a stand-in for an Auth0 tenant, for development and tests only: OIDC discovery, a JWKS of
// RSA keys (and optionally a P-256 key) with their certificates, /oauth/token (client credentials, the device
// flow, and user login's authorization code with PKCE and rotating refresh tokens), a device approval page, a
// login page, /userinfo, logout, and /dev endpoints that mint arbitrary tokens and rotate keys, with Auth0's
// pre-published next key. Tokens look like Auth0's so an API validates them unchanged. It can also make the
// certificates to serve itself over HTTPS (NewDevTLS).
package tenant

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/internal/forwarded"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// Options are the per-run settings of a Tenant; only Issuer is required.
type Options struct {
	// Issuer is the public issuer URL written into iss and discovery (a trailing slash is added if missing).
	Issuer string
	// KeyFile keeps the signing keys across restarts; "" keeps them in memory.
	KeyFile string
	// ECKey adds one P-256 key to the JWKS, used only by /dev/mint {"alg":"ES256"}; /oauth/token keeps signing
	// RS256 with the RSA key, as Auth0 does. With KeyFile it is kept in the same file.
	ECKey bool
	// TrustProxy makes discovery's endpoint URLs follow X-Forwarded-Proto and X-Forwarded-Host. Off, those
	// headers are ignored: anyone can send them, and only a proxy in front of the tenant may decide its URLs.
	TrustProxy bool
	// Logger receives one line per request (never a token or secret); nil discards.
	Logger *slog.Logger
	// Now is the clock; tests move it to expire device codes. Default time.Now.
	Now func() time.Time
	// DeviceCodeTTL is how long a device code can be approved and polled. Default 10 minutes.
	DeviceCodeTTL time.Duration
	// DevicePollInterval is the minimum polling interval given to devices. Default 5 seconds (RFC 8628).
	DevicePollInterval time.Duration
	// AllowedHosts are the host names (ports ignored) the tenant answers; any other Host gets 421, so a web page
	// that rebinds its DNS name to the tenant's address cannot reach /dev/mint. Empty means DefaultAllowedHosts.
	// The issuer's host is always allowed.
	AllowedHosts []string
	// MaxPendingDevices bounds outstanding device authorizations in total; default DefaultMaxPendingDevices.
	MaxPendingDevices int
	// MaxPendingDevicesPerClient bounds them per client, so one client cannot fill the store; default
	// DefaultMaxPendingDevicesPerClient.
	MaxPendingDevicesPerClient int
	// Hints finish the HTTP answers that mean the tenant must be started differently, in the words of the program
	// that starts it; empty, those answers say what is missing without naming a fix.
	Hints Hints
}

// Hints are what whoever starts the tenant can change, added to the HTTP answers that need it. The package names
// no flags: only the program that starts the tenant knows how its settings are spelled.
type Hints struct {
	// AllowedHosts follows the 421 answer to a Host the tenant does not serve, e.g. "start the tenant with
	// --allowed-hosts to add it".
	AllowedHosts string
	// ECKey follows /dev/mint's answer to {"alg":"ES256"} from a tenant without a P-256 key, e.g. "start the
	// tenant with --ec-key".
	ECKey string
}

// Tenant serves the stand-in tenant's endpoints; it is safe for concurrent use.
type Tenant struct {
	issuer     string
	trustProxy bool
	log        *slog.Logger
	now        func() time.Time
	ttl        time.Duration

	apis     map[string]API
	clients  map[string]Client
	users    map[string]User
	apiOrder []API // as configured; the first is /dev/mint's default audience

	keys         *keyStore
	devices      *deviceStore
	allowedHosts hostSet
	logins       *attemptLimiter // failed /activate and /authorize passwords, per user and per remote address
	grants       *grantStore     // authorization codes, refresh tokens and the logins they belong to
	dpop         *dpop.Verifier  // DPoP proofs of token requests, with their replay cache
	csrfKey      []byte          // signs the login form's CSRF tokens; new on every start
	webOrigins   corsOrigins     // browser origins allowed to call /oauth/token and /userinfo
	hints        Hints           // Options.Hints, for the answers that need them
	handler      http.Handler
}

// New checks cfg and opts and loads (or creates) the signing keys; it does not listen anywhere.
func New(cfg *Config, opts Options) (*Tenant, error) {
	if cfg == nil {
		return nil, errors.New("tenant: nil config; use tenant.DefaultConfig()")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	issuer, err := NormalizeIssuer(opts.Issuer)
	if err != nil {
		return nil, err
	}
	t := &Tenant{
		issuer:     issuer,
		trustProxy: opts.TrustProxy,
		log:        opts.Logger,
		now:        opts.Now,
		ttl:        cfg.TokenTTL,
		apis:       make(map[string]API, len(cfg.APIs)),
		clients:    make(map[string]Client, len(cfg.Clients)),
		users:      make(map[string]User, len(cfg.Users)),
		apiOrder:   append([]API(nil), cfg.APIs...),
		hints:      opts.Hints,
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.dpop = dpop.NewVerifier(dpop.VerifierOptions{Now: t.now})
	for _, a := range cfg.APIs {
		t.apis[a.Audience] = a
	}
	for _, c := range cfg.Clients {
		t.clients[c.ID] = c
	}
	for _, u := range cfg.Users {
		t.users[u.Username] = u
	}
	codeTTL, interval := opts.DeviceCodeTTL, opts.DevicePollInterval
	if codeTTL <= 0 {
		codeTTL = 10 * time.Minute
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	total, perClient := opts.MaxPendingDevices, opts.MaxPendingDevicesPerClient
	if total <= 0 {
		total = DefaultMaxPendingDevices
	}
	if perClient <= 0 {
		perClient = DefaultMaxPendingDevicesPerClient
	}
	t.devices = newDeviceStore(codeTTL, interval, total, perClient)
	if t.allowedHosts, err = newHostSet(issuer, opts.AllowedHosts); err != nil {
		return nil, err
	}
	t.logins = newAttemptLimiter(maxLoginFailures, loginWindow, maxLimiterKeys)
	t.grants, t.csrfKey, t.webOrigins = newGrantStore(), []byte(newID(32)), newCORSOrigins(cfg.Clients)
	if t.keys, err = loadKeyStoreLogged(opts.KeyFile, opts.ECKey, t.log); err != nil {
		return nil, err
	}
	t.handler = t.routes()
	return t, nil
}

// ErrBadIssuer marks an issuer (Options.Issuer, NormalizeIssuer) that is not an absolute http(s) URL.
var ErrBadIssuer = errors.New("not an absolute http(s) URL such as http://localhost:4000/")

// NormalizeIssuer checks that issuer is an absolute http(s) URL and gives it the trailing slash Auth0 writes; an
// error wraps ErrBadIssuer and quotes the value.
func NormalizeIssuer(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("issuer %q: %w", issuer, ErrBadIssuer)
	}
	if !strings.HasSuffix(issuer, "/") {
		issuer += "/"
	}
	return issuer, nil
}

// Issuer is the iss of every token and discovery's issuer.
func (t *Tenant) Issuer() string { return t.issuer }

// Handler serves every endpoint of the tenant.
func (t *Tenant) Handler() http.Handler { return t.handler }

// Paths the tenant serves, relative to its base URL (Auth0's paths).
const (
	PathOpenIDConfiguration = "/.well-known/openid-configuration"
	PathOAuthServerMetadata = "/.well-known/oauth-authorization-server"
	PathJWKS                = "/.well-known/jwks.json"
	PathToken               = "/oauth/token" //nolint:gosec // a URL path, not a credential
	PathDeviceCode          = "/oauth/device/code"
	PathActivate            = "/activate"
	PathAuthorize           = "/authorize"
	PathMint                = "/dev/mint"
	PathRotate              = "/dev/rotate"
)

func (t *Tenant) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathOpenIDConfiguration, publicDocument(t.serveDiscovery))
	mux.HandleFunc("GET "+PathOAuthServerMetadata, publicDocument(t.serveDiscovery))
	mux.HandleFunc("GET "+PathJWKS, publicDocument(t.serveJWKS))
	mux.HandleFunc("POST "+PathToken, t.withCORS(t.serveToken))
	mux.HandleFunc("OPTIONS "+PathToken, t.preflight("POST", "DPoP"))
	mux.HandleFunc("GET "+PathAuthorize, t.serveAuthorize)
	mux.HandleFunc("POST "+PathAuthorize, t.serveLogin)
	mux.HandleFunc("GET "+PathUserinfo, t.withCORS(t.serveUserinfo))
	mux.HandleFunc("POST "+PathUserinfo, t.withCORS(t.serveUserinfo))
	mux.HandleFunc("OPTIONS "+PathUserinfo, t.preflight("GET, POST"))
	mux.HandleFunc("GET "+PathOIDCLogout, t.serveOIDCLogout)
	mux.HandleFunc("POST "+PathOIDCLogout, t.serveOIDCLogout)
	mux.HandleFunc("GET "+PathV2Logout, t.serveV2Logout)
	mux.HandleFunc("POST "+PathDeviceCode, t.serveDeviceCode)
	mux.HandleFunc("GET "+PathActivate, t.serveActivatePage)
	mux.HandleFunc("POST "+PathActivate, t.serveActivate)
	mux.HandleFunc("POST "+PathMint, t.serveMint)
	mux.HandleFunc("POST "+PathRotate, t.serveRotate)
	return t.logRequests(t.guard(mux))
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// logRequests writes one line per request: method, path (never the query, which may carry codes) and status.
func (t *Tenant) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		t.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
	})
}

// baseURL is the scheme and host the request came in on, so discovery's endpoint URLs work from wherever the
// client reached the tenant (http://tenant:4000/ in compose, http://localhost:4000/ from the host). The scheme is
// https on a TLS connection. Only with TrustProxy do X-Forwarded-Proto and X-Forwarded-Host replace them (the
// first value of each: the one the client-facing proxy set); a malformed value is ignored.
func (t *Tenant) baseURL(r *http.Request) string {
	scheme := forwarded.Scheme(r, t.trustProxy)
	host := forwarded.Host(r, t.trustProxy, validHost)
	if !validHost(host) {
		u, _ := url.Parse(t.issuer) // validated in New
		return u.Scheme + "://" + u.Host + "/"
	}
	return scheme + "://" + host + "/"
}

// validHost reports whether host can stand as the authority of a URL without changing its meaning.
func validHost(host string) bool {
	if host == "" || strings.ContainsAny(host, "/\\?#@ ") {
		return false
	}
	for _, c := range host {
		if c < 0x21 || c == 0x7f {
			return false
		}
	}
	return true
}
