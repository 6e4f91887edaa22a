package tenant

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// defaultYAML is the contract's built-in configuration, kept verbatim so the tenant and the documentation agree.
//
//go:embed default.yaml
var defaultYAML []byte

// defaultTokenTTL applies when a config file leaves token_ttl out.
const defaultTokenTTL = 24 * time.Hour

// maxConfigBytes bounds a config file so a wrong path (a log, a disk image) fails fast instead of eating memory.
const maxConfigBytes = 1 << 20

// Config is the tenant's APIs, applications and users; its YAML schema is fixed by the contract.
type Config struct {
	// TokenTTL is how long issued access tokens live (exp - iat).
	TokenTTL time.Duration `yaml:"token_ttl"`
	// APIs are the resource servers tokens can be asked for, by audience.
	APIs []API `yaml:"apis"`
	// Clients are the applications allowed to ask for tokens.
	Clients []Client `yaml:"clients"`
	// Users sign in on the /authorize login page and approve device-flow logins on the /activate page.
	Users []User `yaml:"users"`
}

// API is a resource server: tokens name it in aud and carry a subset of its scopes.
type API struct {
	Audience string   `yaml:"audience"`
	Scopes   []string `yaml:"scopes"`
}

// Client is an application. Confidential clients (with a secret) use client_credentials within their grants;
// public clients have no secret and start device flows or user logins. Any client with RedirectURIs can send users
// to /authorize (authorization code flow); public clients must use PKCE there.
type Client struct {
	ID     string              `yaml:"id"`
	Secret string              `yaml:"secret"`
	Public bool                `yaml:"public"`
	Grants map[string][]string `yaml:"grants"` // audience -> scopes the client may get
	// AppType is Auth0's application type: native (installed apps and CLIs, whose loopback redirect URIs match on
	// any port, RFC 8252 §7.3), spa, regular_web or non_interactive; "" is a plain client.
	AppType string `yaml:"app_type"`
	// RedirectURIs are the exact redirect_uri values /authorize accepts (Auth0's Allowed Callback URLs).
	RedirectURIs []string `yaml:"redirect_uris"`
	// WebOrigins are the browser origins (scheme://host[:port]) that may call /oauth/token and /userinfo
	// cross-origin (CORS).
	WebOrigins []string `yaml:"web_origins"`
	// LogoutURLs are where logout may send the user back to (Auth0's Allowed Logout URLs): returnTo of /v2/logout
	// and post_logout_redirect_uri of /oidc/logout.
	LogoutURLs []string `yaml:"logout_urls"`
}

// Application types a client may declare (Client.AppType).
const (
	AppTypeNative         = "native"
	AppTypeSPA            = "spa"
	AppTypeRegularWeb     = "regular_web"
	AppTypeNonInteractive = "non_interactive"
)

// User is a person who signs in at /authorize or approves a device login; their tokens carry the scopes granted
// here.
type User struct {
	Username string              `yaml:"username"`
	Password string              `yaml:"password"`
	Scopes   map[string][]string `yaml:"scopes"` // audience -> scopes the user may get
	// Name is the ID token's and /userinfo's name claim (profile scope); "" uses the username.
	Name string `yaml:"name"`
	// Email is the email claim (email scope); "" leaves it out.
	Email string `yaml:"email"`
}

// DefaultConfig is the built-in configuration of the contract, fresh on every call so callers may change it.
func DefaultConfig() *Config {
	cfg, err := ParseConfig(defaultYAML, "built-in default")
	if err != nil {
		panic("tenant: the embedded default configuration is invalid: " + err.Error())
	}
	return cfg
}

// LoadConfig reads and validates a YAML config file. A file it cannot read is a *ConfigFileError; an invalid one's
// errors name the file, the line and the field to fix.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the config file on purpose
	if err != nil {
		return nil, &ConfigFileError{Path: path, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, &ConfigFileError{Path: path, Err: err}
	}
	if len(data) > maxConfigBytes {
		return nil, &ConfigFileError{Path: path, Err: ErrConfigTooLarge}
	}
	return ParseConfig(data, path)
}

// ErrConfigTooLarge is a config file beyond the size any tenant config needs: most likely the wrong file.
var ErrConfigTooLarge = fmt.Errorf("config file is larger than %d bytes", maxConfigBytes)

// ConfigFileError is a config file LoadConfig cannot read (or, with ErrConfigTooLarge, will not). It names the
// file but no flag or setting: the program that chose the file (client tenant's --config) adds how to pick another.
// A file that is read but invalid gives ParseConfig's error instead, naming the line and field.
type ConfigFileError struct {
	Path string
	Err  error
}

// Error names the file and why it could not be read.
func (e *ConfigFileError) Error() string {
	return fmt.Sprintf("read tenant config %s: %v", e.Path, e.Err)
}

// Unwrap gives the underlying open or read error, or ErrConfigTooLarge.
func (e *ConfigFileError) Unwrap() error { return e.Err }

// ParseConfig decodes and validates YAML config; name (usually the file name) prefixes every error.
func ParseConfig(data []byte, name string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, nil, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: config is empty; it needs at least apis and clients (see the built-in default)", name)
	}
	doc := root.Content[0]
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, yamlError(name, doc, err)
	}
	if lookup(doc, "token_ttl") == nil {
		cfg.TokenTTL = defaultTokenTTL
	}
	if err := cfg.validate(name, doc); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks the configuration for mistakes that would make the tenant misbehave, naming each bad field.
func (c *Config) Validate() error { return c.validate("tenant config", nil) }
