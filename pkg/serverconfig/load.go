package serverconfig

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Variable names of the contract, one per setting.
const (
	EnvPort                = "PORT"
	EnvAuth0Domain         = "AUTH0_DOMAIN"
	EnvIssuerURL           = "ISSUER_URL"
	EnvAuth0Audience       = "AUTH0_AUDIENCE"
	EnvJWKSURL             = "JWKS_URL"
	EnvAllowInsecureIssuer = "ALLOW_INSECURE_ISSUER"
	EnvCORSAllowedOrigins  = "CORS_ALLOWED_ORIGINS"
	EnvClockSkew           = "CLOCK_SKEW"
	EnvRequiredScope       = "REQUIRED_SCOPE"
	EnvJWKSRefreshInterval = "JWKS_REFRESH_INTERVAL"
	EnvTokenCacheSize      = "TOKEN_CACHE_SIZE" //nolint:gosec // a variable name, not a credential
	EnvMaxConnections      = "MAX_CONNECTIONS"
	EnvLogFlushInterval    = "LOG_FLUSH_INTERVAL"
	EnvLogLevel            = "LOG_LEVEL"
	EnvTrustProxy          = "TRUST_PROXY"
	EnvPublicURL           = "PUBLIC_URL"
	EnvResourceURL         = "RESOURCE_URL"
	EnvDPoPMode            = "DPOP_MODE"
	EnvDPoPAlgs            = "DPOP_ALGS"
	EnvDPoPIATWindow       = "DPOP_IAT_WINDOW"
)

// setting describes one variable: its flag is the lower-kebab of its name, aliases match the client's flags.
type setting struct {
	env     string
	aliases []string
	usage   string
	isBool  bool
}

var settings = []setting{
	{env: EnvPort, usage: "listen `port` (default " + strconv.Itoa(DefaultPort) + ")"},
	{env: EnvAuth0Domain, aliases: []string{"domain"}, usage: "Auth0 tenant `domain`s, comma-separated; each issuer becomes https://<domain>/"},
	{env: EnvIssuerURL, aliases: []string{"issuer"}, usage: "exact issuer `URL`s (iss) of any OIDC issuer, comma-separated; wins over AUTH0_DOMAIN"},
	{env: EnvAuth0Audience, aliases: []string{"audience"}, usage: "API `identifiers`, comma-separated (required)"},
	{env: EnvJWKSURL, usage: "key set `URL` (default: discovery's jwks_uri, else <issuer>.well-known/jwks.json)"},
	{env: EnvAllowInsecureIssuer, isBool: true, usage: "permit an http:// issuer or JWKS URL (stand-in tenant only)"},
	{env: EnvCORSAllowedOrigins, usage: "comma-separated browser `origins` allowed by CORS (default " + DefaultCORSAllowedOrigins + ")"},
	{env: EnvClockSkew, usage: "leeway on exp/nbf/iat, a `duration` (default " + shortDuration(DefaultClockSkew) + ")"},
	{env: EnvRequiredScope, usage: "`scope` the scoped routes require (default " + DefaultRequiredScope + ")"},
	{env: EnvJWKSRefreshInterval, usage: "periodic key set refresh, a `duration` (default " + shortDuration(DefaultJWKSRefreshInterval) + ")"},
	{env: EnvTokenCacheSize, usage: "verified-token cache `entries`; 0 disables (default " + strconv.Itoa(DefaultTokenCacheSize) + ")"},
	{env: EnvMaxConnections, usage: "most concurrent client `connections`; further ones wait to be accepted (default " +
		strconv.Itoa(DefaultMaxConnections) + ")"},
	{env: EnvLogFlushInterval, usage: "longest a JSON log line waits in the output buffer, a `duration`; 0 writes each line at once " +
		"(default " + DefaultLogFlushInterval.String() + ")"},
	{env: EnvLogLevel, usage: "least `level` logged: debug, info, warn or error (default info; health and metrics " +
		"probes are access-logged at debug)"},
	{env: EnvTrustProxy, isBool: true, usage: "take the request's scheme and host from X-Forwarded-Proto/-Host (only behind a proxy that sets them)"},
	{env: EnvPublicURL, usage: "the API's external `origin` (scheme://host[:port]) for DPoP htu and resource_metadata (default: the request's)"},
	{env: EnvResourceURL, usage: "resource `identifier` in /.well-known/oauth-protected-resource (default: the first audience)"},
	{env: EnvDPoPMode, usage: "DPoP-bound tokens: disabled, allowed or required (default " + string(DefaultDPoPMode) + ")"},
	{env: EnvDPoPAlgs, usage: "accepted DPoP proof `algorithms`, space- or comma-separated (default " + strings.Join(DefaultDPoPAlgs(), " ") + ")"},
	{env: EnvDPoPIATWindow, usage: "how old a DPoP proof may be, a `duration` (default " + shortDuration(DefaultDPoPIATWindow) + ")"},
}

// Variables are the names of every environment variable the server reads, in the order --help lists them, for
// checks that other files (manifests, docs) name only real ones.
func Variables() []string {
	out := make([]string, 0, len(settings))
	for _, st := range settings {
		out = append(out, st.env)
	}
	return out
}

// writeUsage lists the flags as users type them, with two dashes (the flag package prints one, though it takes
// both), each with its variable.
func writeUsage(w io.Writer, set *flag.FlagSet) {
	var b strings.Builder
	b.WriteString("Usage: server [flags]   (every flag is also an environment variable, shown in brackets)\n")
	set.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		b.WriteString("  --" + f.Name)
		if typ != "" {
			b.WriteString(" " + typ)
		}
		b.WriteString("\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t") + "\n")
	})
	_, _ = io.WriteString(w, b.String())
}

// shortDuration prints a default as people write it: 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// FlagName is the flag equivalent of an environment variable: PORT ⇔ --port, AUTH0_AUDIENCE ⇔ --auth0-audience.
func FlagName(env string) string {
	return "--" + strings.ReplaceAll(strings.ToLower(env), "_", "-")
}

// Option tunes Load; the defaults read the process environment and ./.env.
type Option func(*loader)

// WithGetenv replaces os.Getenv, so tests and embedders supply their own environment.
func WithGetenv(getenv func(string) string) Option {
	return func(l *loader) { l.getenv = getenv }
}

// WithDotEnv reads the .env file at path instead of ./.env; an empty path reads none.
func WithDotEnv(path string) Option {
	return func(l *loader) { l.dotenvPath = path }
}

// WithOutput is where flag usage and flag errors are printed (default io.Discard, as the caller prints the error).
func WithOutput(w io.Writer) Option {
	return func(l *loader) { l.out = w }
}

type loader struct {
	getenv     func(string) string
	dotenvPath string
	out        io.Writer
}

// source says where a raw value came from, so messages point at the place to fix.
type source string

const (
	fromFlag    source = "flag"
	fromEnv     source = "environment"
	fromDotEnv  source = ".env"
	fromDefault source = "default"
)

type raw struct {
	value string
	from  source
}

// rawFlag records a flag's text unparsed, so flags go through the same validation as variables.
type rawFlag struct {
	value  *string
	isBool bool
}

func (f rawFlag) String() string {
	if f.value == nil {
		return ""
	}
	return *f.value
}

func (f rawFlag) Set(s string) error { *f.value = s; return nil }

func (f rawFlag) IsBoolFlag() bool { return f.isBool }

// ErrHelp is returned when -h or --help was asked for; usage has been printed to the output.
var ErrHelp = flag.ErrHelp

// Load builds the configuration from args (flags without the program name), then the environment, then the
// .env file, then the defaults — first found wins — and validates everything, returning an *Error that lists
// every bad variable at once.
func Load(args []string, opts ...Option) (*Config, error) {
	l := &loader{getenv: os.Getenv, dotenvPath: ".env", out: io.Discard}
	for _, o := range opts {
		o(l)
	}

	set := flag.NewFlagSet("server", flag.ContinueOnError)
	set.SetOutput(l.out)
	flagValues := make(map[string]*string, len(settings))
	for _, s := range settings {
		v := new(string)
		flagValues[s.env] = v
		name := strings.TrimPrefix(FlagName(s.env), "--")
		set.Var(rawFlag{value: v, isBool: s.isBool}, name, s.usage+" ["+s.env+"]")
		for _, a := range s.aliases {
			set.Var(rawFlag{value: v, isBool: s.isBool}, a, "same as --"+name)
		}
	}
	set.Usage = func() { writeUsage(l.out, set) }
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("%w (run with --help for the list of flags)", err)
	}
	if set.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: configuration is given by flags or environment variables", set.Arg(0))
	}
	setByFlag := map[string]bool{}
	set.Visit(func(f *flag.Flag) {
		for _, s := range settings {
			if f.Name == strings.TrimPrefix(FlagName(s.env), "--") || slices.Contains(s.aliases, f.Name) {
				setByFlag[s.env] = true
			}
		}
	})

	var problems []Problem
	dotenv := map[string]string{}
	if l.dotenvPath != "" {
		m, err := godotenv.Read(l.dotenvPath)
		switch {
		case err == nil:
			dotenv = m
		case errors.Is(err, fs.ErrNotExist):
			// No .env is the normal case in containers.
		default:
			problems = append(problems, Problem{Message: fmt.Sprintf(
				"cannot read %s: %v; fix its syntax (KEY=value per line) or remove it", l.dotenvPath, err)})
		}
	}

	values := make(map[string]raw, len(settings))
	for _, s := range settings {
		switch {
		case setByFlag[s.env]:
			values[s.env] = raw{value: strings.TrimSpace(*flagValues[s.env]), from: fromFlag}
		case strings.TrimSpace(l.getenv(s.env)) != "":
			values[s.env] = raw{value: strings.TrimSpace(l.getenv(s.env)), from: fromEnv}
		case strings.TrimSpace(dotenv[s.env]) != "":
			values[s.env] = raw{value: strings.TrimSpace(dotenv[s.env]), from: fromDotEnv}
		default:
			values[s.env] = raw{from: fromDefault}
		}
	}

	cfg, more := validate(values)
	problems = append(problems, more...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}
