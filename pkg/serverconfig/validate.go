package serverconfig

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// Bounds that keep a typo from becoming an outage or an open door.
const (
	maxClockSkew          = 5 * time.Minute
	minJWKSRefresh        = time.Second
	maxTokenCacheSize     = 10_000_000
	maxMaxConnections     = 1_000_000
	maxLogFlushInterval   = 10 * time.Second
	minDPoPIATWindow      = time.Second
	maxDPoPIATWindow      = 10 * time.Minute
	maxEchoedValueLength  = 80
	exampleAudience       = local.Audience
	exampleAuth0Domain    = "example.us.auth0.com"
	insecureIssuerFixHint = "use https, or set ALLOW_INSECURE_ISSUER=true for a local stand-in tenant"
)

// checker accumulates problems while turning raw values into a Config.
type checker struct {
	values   map[string]raw
	problems []Problem
}

func (c *checker) addf(env, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r := c.values[env]; r.from != fromDefault && r.from != "" {
		msg = fmt.Sprintf("%s (from %s)", msg, r.from)
	}
	c.problems = append(c.problems, Problem{Variable: env, Flag: FlagName(env), Message: msg})
}

func (c *checker) get(env string) string { return c.values[env].value }

// quote echoes a bad value back, shortened, so a pasted secret or megabyte of text does not flood the log.
func quote(s string) string {
	if len(s) > maxEchoedValueLength {
		s = s[:maxEchoedValueLength] + "…"
	}
	return strconv.Quote(s)
}

func validate(values map[string]raw) (*Config, []Problem) {
	c := &checker{values: values}
	cfg := &Config{
		Port:                DefaultPort,
		ClockSkew:           DefaultClockSkew,
		RequiredScope:       DefaultRequiredScope,
		JWKSRefreshInterval: DefaultJWKSRefreshInterval,
		TokenCacheSize:      DefaultTokenCacheSize,
	}

	if v := c.get(EnvAllowInsecureIssuer); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			c.addf(EnvAllowInsecureIssuer, "%s is not a boolean; use true or false", quote(v))
		}
		cfg.AllowInsecureIssuer = b
	}
	if v := c.get(EnvPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			c.addf(EnvPort, "%s is not a TCP port; use a number from 1 to 65535, e.g. 3010", quote(v))
		}
		cfg.Port = p
	}
	issuers := c.issuers(cfg.AllowInsecureIssuer)
	if len(issuers) > 0 {
		cfg.Issuer = issuers[0]
	}
	if len(issuers) > 1 {
		cfg.ExtraIssuers = issuers[1:]
	}
	cfg.Audiences = c.audiences()
	if v := c.get(EnvJWKSURL); v != "" {
		if msg := checkURL(v, cfg.AllowInsecureIssuer); msg != "" {
			c.addf(EnvJWKSURL, "%s %s", quote(v), msg)
		} else if len(issuers) > 1 {
			c.addf(EnvJWKSURL, "names one key set, but %d issuers are configured; unset it so each issuer's keys are found "+
				"by its discovery document, or configure one issuer", len(issuers))
		}
		cfg.JWKSURL = v
	}
	cfg.CORSAllowedOrigins = c.origins()
	if v := c.get(EnvClockSkew); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxClockSkew {
			c.addf(EnvClockSkew, "%s is not a duration between 0s and %s; use e.g. 30s", quote(v), maxClockSkew)
		}
		cfg.ClockSkew = d
	}
	if v := c.get(EnvRequiredScope); v != "" {
		if !isScopeToken(v) {
			c.addf(EnvRequiredScope, "%s is not a single scope; use one scope without spaces or quotes, e.g. read:messages", quote(v))
		}
		cfg.RequiredScope = v
	}
	if v := c.get(EnvJWKSRefreshInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minJWKSRefresh {
			c.addf(EnvJWKSRefreshInterval, "%s is not a duration of at least %s; use e.g. 10m", quote(v), minJWKSRefresh)
		}
		cfg.JWKSRefreshInterval = d
	}
	if v := c.get(EnvTokenCacheSize); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxTokenCacheSize {
			c.addf(EnvTokenCacheSize, "%s is not a cache size; use a whole number from 0 (disabled) to %d", quote(v), maxTokenCacheSize)
		}
		cfg.TokenCacheSize = n
	}
	if v := c.get(EnvMaxConnections); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaxConnections {
			c.addf(EnvMaxConnections, "%s is not a connection limit; use a whole number from 1 to %d, e.g. %d", quote(v), maxMaxConnections, DefaultMaxConnections)
		}
		cfg.MaxConnections = n
	}
	if v := c.get(EnvLogFlushInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxLogFlushInterval {
			c.addf(EnvLogFlushInterval, "%s is not a duration between 0s (unbuffered) and %s; use e.g. 100ms", quote(v), maxLogFlushInterval)
		}
		cfg.LogFlushInterval = d
		if d == 0 {
			cfg.LogFlushInterval = -1 // unbuffered; the zero value means the default
		}
	}
	if v := c.get(EnvLogLevel); v != "" {
		var level slog.Level
		if err := level.UnmarshalText([]byte(v)); err != nil || strings.ContainsAny(v, "+-") {
			c.addf(EnvLogLevel, "%s is not a log level; use debug, info, warn or error", quote(v))
		}
		cfg.LogLevel = level
	}
	c.dpop(cfg)
	return cfg, c.problems
}

// dpop reads TRUST_PROXY, PUBLIC_URL, RESOURCE_URL and the DPOP_* variables.
func (c *checker) dpop(cfg *Config) {
	if v := c.get(EnvTrustProxy); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			c.addf(EnvTrustProxy, "%s is not a boolean; use true (only behind a proxy that sets X-Forwarded-Proto/-Host) or false", quote(v))
		}
		cfg.TrustProxy = b
	}
	if v := c.get(EnvPublicURL); v != "" {
		if err := auth.CheckPublicURL(v); err != nil {
			c.addf(EnvPublicURL, "%s is not an origin; use the scheme and host clients call, without a path, e.g. https://api.example.com", quote(v))
		}
		cfg.PublicURL = strings.TrimSuffix(v, "/")
	}
	if v := c.get(EnvResourceURL); v != "" {
		u, err := url.Parse(v)
		if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" || u.RawQuery != "" {
			c.addf(EnvResourceURL, "%s is not a resource identifier; use an absolute https URL without query or fragment, e.g. https://api.example.com/", quote(v))
		}
		cfg.ResourceURL = v
	}
	if v := c.get(EnvDPoPMode); v != "" {
		switch m := auth.DPoPMode(strings.ToLower(v)); m {
		case auth.DPoPDisabled, auth.DPoPAllowed, auth.DPoPRequired:
			cfg.DPoPMode = m
		default:
			c.addf(EnvDPoPMode, "%s is not a DPoP mode; use disabled, allowed or required", quote(v))
		}
	}
	if v := c.get(EnvDPoPAlgs); v != "" {
		algs := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		for _, a := range algs {
			if !dpop.Supported(a) {
				c.addf(EnvDPoPAlgs, "%s is not an asymmetric JWS algorithm DPoP proofs may use; choose from %s (never none or HS*)",
					quote(a), strings.Join(dpop.SupportedAlgs(), " "))
			}
		}
		if len(algs) == 0 {
			c.addf(EnvDPoPAlgs, "lists no algorithm; use e.g. %q", strings.Join(DefaultDPoPAlgs(), " "))
		}
		cfg.DPoPAlgs = algs
	}
	if v := c.get(EnvDPoPIATWindow); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minDPoPIATWindow || d > maxDPoPIATWindow {
			c.addf(EnvDPoPIATWindow, "%s is not a duration between %s and %s; use e.g. 60s", quote(v), minDPoPIATWindow, shortDuration(maxDPoPIATWindow))
		}
		cfg.DPoPIATWindow = d
	}
}

// issuers applies the contract: ISSUER_URL exactly if set, else https://<AUTH0_DOMAIN>/; each may be a
// comma-separated list (duplicates dropped).
func (c *checker) issuers(allowInsecure bool) []string {
	if v := c.get(EnvIssuerURL); v != "" {
		var out []string
		for _, iss := range splitList(v) {
			if msg := checkURL(iss, allowInsecure); msg != "" {
				c.addf(EnvIssuerURL, "%s %s", quote(iss), msg)
			}
			if !slices.Contains(out, iss) {
				out = append(out, iss)
			}
		}
		if len(out) == 0 {
			c.addf(EnvIssuerURL, "lists no issuer; use the exact issuer URL, e.g. https://%s/", exampleAuth0Domain)
		}
		return out
	}
	v := c.get(EnvAuth0Domain)
	if v == "" {
		c.issuer("") // reports that no issuer is configured
		return nil
	}
	var out []string
	for _, d := range splitList(v) {
		if iss := c.issuer(d); iss != "" && !slices.Contains(out, iss) {
			out = append(out, iss)
		}
	}
	if len(splitList(v)) == 0 {
		c.addf(EnvAuth0Domain, "lists no domain; use the bare tenant domain, e.g. %s", exampleAuth0Domain)
	}
	return out
}

// issuer turns one AUTH0_DOMAIN entry into https://<domain>/, or reports it ("" when missing or bad).
func (c *checker) issuer(v string) string {
	if v == "" {
		c.problems = append(c.problems, Problem{
			Variable: EnvAuth0Domain,
			Flag:     FlagName(EnvAuth0Domain),
			Message: fmt.Sprintf("no issuer configured; set %s to your tenant's domain (e.g. %s) or %s (%s) to the exact issuer URL",
				EnvAuth0Domain, exampleAuth0Domain, EnvIssuerURL, FlagName(EnvIssuerURL)),
		})
		return ""
	}
	// Accept what people paste from the Auth0 dashboard: the bare domain, or its https URL.
	host := strings.TrimSuffix(strings.TrimPrefix(v, "https://"), "/")
	u, err := url.Parse("https://" + host + "/")
	if err != nil || host == "" || u.Host != host || u.Path != "/" || u.User != nil || strings.Contains(host, "://") {
		c.addf(EnvAuth0Domain, "%s is not a domain; use the bare tenant domain, e.g. %s (or set %s for another issuer)",
			quote(v), exampleAuth0Domain, EnvIssuerURL)
		return ""
	}
	return "https://" + host + "/"
}

func (c *checker) audiences() []string {
	auds := splitList(c.get(EnvAuth0Audience))
	if len(auds) == 0 {
		c.addf(EnvAuth0Audience, "required; set it to your API identifier (a comma-separated list for several), e.g. %s", exampleAudience)
	}
	return auds
}

func (c *checker) origins() []string {
	v := c.get(EnvCORSAllowedOrigins)
	if v == "" {
		return []string{DefaultCORSAllowedOrigins}
	}
	var out []string
	list := splitList(v)
	for _, o := range list {
		if o == "*" {
			out = append(out, o)
			continue
		}
		norm, ok := api.NormalizeOrigin(o)
		if !ok {
			c.addf(EnvCORSAllowedOrigins, "%s is not an origin; use scheme://host[:port] such as http://localhost:3000, or *",
				quote(strings.ToLower(strings.TrimSuffix(o, "/"))))
			continue
		}
		out = append(out, norm)
	}
	if len(list) == 0 {
		c.addf(EnvCORSAllowedOrigins, "lists no origin; use a comma-separated list such as http://localhost:3000")
	}
	return out
}

// checkURL returns why s cannot be an issuer or JWKS URL, or "" when it can; the rule is pkg/auth's, the wording
// (naming the settings to fix) is this package's.
func checkURL(s string, allowInsecure bool) string {
	switch err := auth.CheckURL(s, allowInsecure); {
	case err == nil:
		return ""
	case errors.Is(err, auth.ErrURLExtras):
		return "must not carry credentials, a query or a fragment"
	case errors.Is(err, auth.ErrInsecureURL):
		return "uses http://; " + insecureIssuerFixHint
	}
	return "is not an absolute http(s) URL; use e.g. https://" + exampleAuth0Domain + "/"
}

// isScopeToken reports whether s is one RFC 6749 §3.3 scope-token.
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b == 0x22 || b == 0x5c || b > 0x7e {
			return false
		}
	}
	return s != ""
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
