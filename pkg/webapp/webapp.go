// Package webapp serves the browser version of Auth0's "Calling APIs" sample: one static page that logs a user in
// with the authorization code flow and PKCE (all in the browser, as a public client with no secret) and calls the
// API with and without the access token, showing the status code, the body and the WWW-Authenticate challenge.
//
// The Go side only serves files and a small JSON configuration; everything OAuth happens in app.js, so the page
// behaves like any single-page application and tokens never reach this server.
package webapp

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/internal/local"
)

// Defaults of the settings, in one place: the API's port, the stand-in tenant's issuer as the host reaches it, the
// tenant's built-in browser client and the quickstart API.
const (
	DefaultAddr      = local.AppAddr
	DefaultAPIURL    = local.APIURL
	DefaultIssuerURL = local.IssuerURL
	DefaultClientID  = "spa"
	DefaultAudience  = local.Audience
	// DefaultScope asks for an ID token with the user's name and for the scoped route's scope; as with Auth0, the
	// access token carries only the asked-for scopes the user holds.
	DefaultScope = "openid profile email read:messages"
)

// Paths the handler answers; every other path is a 404.
const (
	PathIndex    = "/"
	PathCallback = "/callback"
	PathConfig   = "/config.json"
	PathScript   = "/app.js"
	PathStyle    = "/app.css"
)

//go:embed static/index.html static/app.js static/app.css
var static embed.FS

// Config is what the page needs to know; the browser reads it from PathConfig.
type Config struct {
	// APIURL is the base URL of the protected API, e.g. http://localhost:3010.
	APIURL string `json:"apiUrl"`
	// IssuerURL is where the browser reaches the tenant; discovery is fetched from it.
	IssuerURL string `json:"issuerUrl"`
	// ClientID is the tenant's public browser client.
	ClientID string `json:"clientId"`
	// Audience names the API the access token is for (Auth0's audience parameter).
	Audience string `json:"audience"`
	// Scope is what the login asks for; empty means DefaultScope.
	Scope string `json:"scope"`
}

// Setting names the Config field a ConfigError is about, so callers can word the message for their own flag or
// variable.
type Setting string

// The settings a ConfigError can name.
const (
	SettingAPIURL    Setting = "api_url"
	SettingIssuerURL Setting = "issuer_url"
	SettingClientID  Setting = "client_id"
	SettingAudience  Setting = "audience"
	SettingScope     Setting = "scope"
)

// ErrBadConfig is wrapped by every ConfigError.
var ErrBadConfig = errors.New("bad web app configuration")

// ConfigError says which setting is wrong and why.
type ConfigError struct {
	Setting Setting
	Value   string
	Reason  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Setting, e.Value, e.Reason)
}

// Unwrap lets errors.Is(err, ErrBadConfig) match.
func (e *ConfigError) Unwrap() error { return ErrBadConfig }

// originPattern is what a URL's scheme://host[:port] may look like once it goes into the CSP header: no spaces,
// semicolons, commas or quotes that would end or add a directive.
var originPattern = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// safeText is what the client id, audience and scope may hold: printable ASCII without quotes or angle brackets,
// so nothing surprising reaches an authorize URL or the page.
var safeText = regexp.MustCompile(`^[!#-&(-;=?-~ ]+$`)

// Normalize checks c and returns it with the API URL's trailing slash removed and the issuer's added (discovery
// sits at <issuer>.well-known/openid-configuration); errors are *ConfigError, one per bad setting, joined.
func (c Config) Normalize() (Config, error) {
	var errs []error
	bad := func(s Setting, v, reason string) {
		errs = append(errs, &ConfigError{Setting: s, Value: v, Reason: reason})
	}
	if _, err := origin(c.APIURL); err != nil {
		bad(SettingAPIURL, c.APIURL, err.Error())
	}
	if _, err := origin(c.IssuerURL); err != nil {
		bad(SettingIssuerURL, c.IssuerURL, err.Error())
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if !strings.HasSuffix(c.IssuerURL, "/") {
		c.IssuerURL += "/"
	}
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	for _, f := range []struct {
		s Setting
		v string
	}{{SettingClientID, c.ClientID}, {SettingAudience, c.Audience}, {SettingScope, c.Scope}} {
		switch {
		case f.v == "":
			bad(f.s, f.v, "must not be empty")
		case !safeText.MatchString(f.v):
			bad(f.s, f.v, "may hold printable ASCII only, without quotes or < >")
		case f.s == SettingScope && !strings.Contains(" "+f.v+" ", " openid "):
			bad(f.s, f.v, `must include "openid": the page needs an ID token for the user's name`)
		}
	}
	return c, errors.Join(errs...)
}

// origin returns scheme://host[:port] of an absolute http(s) URL with no credentials, query or fragment.
func origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", errors.New("must not be empty")
	case err != nil:
		return "", errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("must start with http:// or https://")
	case u.Host == "":
		return "", errors.New("has no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", errors.New("must be a plain URL without user info, query or fragment")
	}
	o := u.Scheme + "://" + u.Host
	if !originPattern.MatchString(o) {
		return "", errors.New("has a host that is not a plain DNS name or IP address")
	}
	return o, nil
}

// Options tune the handler; the zero value is what `client app` serves.
type Options struct {
	// ExtraConnectSrc adds origins the page may fetch from beyond the API and the issuer, e.g. a token endpoint on
	// another host than the issuer's.
	ExtraConnectSrc []string
}

// Option sets one of Options.
type Option func(*Options)

// WithConnectSrc lets the page also fetch from these origins (scheme://host[:port]).
func WithConnectSrc(origins ...string) Option {
	return func(o *Options) { o.ExtraConnectSrc = append(o.ExtraConnectSrc, origins...) }
}

// New returns the handler of the page for cfg, or the configuration's errors (see Config.Normalize).
func New(cfg Config, opts ...Option) (http.Handler, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	apiOrigin, _ := origin(cfg.APIURL)
	issuerOrigin, _ := origin(cfg.IssuerURL)
	connect := []string{"'self'", apiOrigin, issuerOrigin}
	for _, extra := range o.ExtraConnectSrc {
		eo, err := origin(extra)
		if err != nil || eo != strings.TrimRight(extra, "/") {
			return nil, &ConfigError{Setting: "connect_src", Value: extra, Reason: "must be an origin, scheme://host[:port]"}
		}
		connect = append(connect, eo)
	}
	// encoding/json escapes <, >, & and U+2028/2029, so the document stays inert even if a browser sniffed it.
	configJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode web app config: %w", err)
	}
	h := &handler{
		csp: strings.Join([]string{
			"default-src 'none'",
			"script-src 'self'",
			"style-src 'self'",
			"img-src 'self'",
			"connect-src " + strings.Join(dedupe(connect), " "),
			"base-uri 'none'",
			"form-action 'none'",
			"frame-ancestors 'none'",
		}, "; "),
		files: map[string]file{PathConfig: {body: configJSON, contentType: "application/json", cache: "no-store"}},
	}
	for path, f := range map[string]struct{ name, contentType, cache string }{
		// The page is no-store: the callback URL carries the authorization code, and no copy of it should linger.
		PathIndex:    {"static/index.html", "text/html; charset=utf-8", "no-store"},
		PathCallback: {"static/index.html", "text/html; charset=utf-8", "no-store"},
		// Script and style may be cached but are revalidated, so a new build is picked up at once.
		PathScript: {"static/app.js", "text/javascript; charset=utf-8", "no-cache"},
		PathStyle:  {"static/app.css", "text/css; charset=utf-8", "no-cache"},
	} {
		body, err := static.ReadFile(f.name)
		if err != nil {
			return nil, fmt.Errorf("embedded %s: %w", f.name, err)
		}
		h.files[path] = file{body: body, contentType: f.contentType, cache: f.cache}
	}
	return h, nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type file struct {
	body        []byte
	contentType string
	cache       string
}

type handler struct {
	csp   string
	files map[string]file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// The callback URL holds the code until the script cleans it; no Referer may carry it elsewhere.
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	f, ok := h.files[r.URL.Path]
	if !ok {
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", f.cache)
	hd.Set("Content-Length", fmt.Sprint(len(f.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.body)
	}
}

// Server timeouts: the page is a few small files, so every phase of a request is short.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
)

// NewServer wraps h in an http.Server with bounded timeouts and header size; the caller sets Addr or serves a
// listener.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}
