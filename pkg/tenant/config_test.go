package tenant

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// contractDefault is the built-in default exactly as the documented tenant contract writes it (README,
// docs/tenant.md); loginDefault is what user login added after it, leaving every earlier entry as it was.
const contractDefault = `token_ttl: 24h
apis:
  - audience: https://quickstarts/api
    scopes: [read:messages, write:messages]
clients:                       # machine-to-machine applications and their grants
  - id: quickstart-noscope
    secret: noscope-secret
    grants: {https://quickstarts/api: []}
  - id: quickstart-read
    secret: read-secret
    grants: {https://quickstarts/api: [read:messages]}
  - id: quickstart-write
    secret: write-secret
    grants: {https://quickstarts/api: [write:messages]}
  - id: quickstart-readwrite
    secret: readwrite-secret
    grants: {https://quickstarts/api: [read:messages, write:messages]}
  - id: cli                   # public client for the device flow
    public: true
users:
  - username: alice
    password: alice-password
    scopes: {https://quickstarts/api: [read:messages]}
`

const loginDefault = `
  - id: spa
    public: true
    app_type: spa
    redirect_uris: [http://localhost:3000/callback]
    web_origins: [http://localhost:3000]
    logout_urls: [http://localhost:3000/]
  - id: native
    public: true
    app_type: native
    redirect_uris: [http://127.0.0.1/callback]
users:
  - username: alice
    password: alice-password
    scopes: {https://quickstarts/api: [read:messages]}
    name: Alice
    email: alice@example.com
  - username: bob
    password: bob-password
    name: Bob
    email: bob@example.com
`

func TestDefaultConfigIsTheContract(t *testing.T) {
	t.Parallel()
	round1, err := ParseConfig([]byte(contractDefault), "contract")
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := strings.Cut(contractDefault, "users:")
	want, err := ParseConfig([]byte(before+strings.TrimPrefix(loginDefault, "\n")), "contract with login")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want.Clients[:5], round1.Clients) || want.Users[0].Username != round1.Users[0].Username ||
		!reflect.DeepEqual(want.Users[0].Scopes, round1.Users[0].Scopes) || want.Users[0].Password != round1.Users[0].Password {
		t.Fatal("the login additions changed an entry of the original contract")
	}
	got := DefaultConfig()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultConfig() = %+v\nwant the contract's %+v", got, want)
	}
	// Spot checks so a change to both copies at once is still noticed.
	if got.TokenTTL != 24*time.Hour || len(got.APIs) != 1 || len(got.Clients) != 7 || len(got.Users) != 2 ||
		got.Clients[0].Grants[testAudience] == nil || len(got.Clients[0].Grants[testAudience]) != 0 || !got.Clients[4].Public {
		t.Fatalf("DefaultConfig() = %+v", got)
	}
	got.Clients[0].ID = "changed"
	if DefaultConfig().Clients[0].ID != "quickstart-noscope" {
		t.Fatal("DefaultConfig shares state between calls")
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error, in order of appearance
	}{
		{"empty", "", []string{"cfg.yaml: config is empty"}},
		{"not YAML", "apis: [", []string{"cfg.yaml: line 1: "}},
		{"unknown field", "token_ttl: 1h\napis:\n  - audience: a\n    scopez: [x]\n", []string{"cfg.yaml:4: apis[0].scopez: unknown field \"scopez\""}},
		{"bad duration", "token_ttl: forever\napis: [{audience: a}]\n", []string{"cfg.yaml:1: token_ttl: cannot unmarshal", "time.Duration"}},
		{"negative ttl", "token_ttl: -1h\napis: [{audience: a}]\n", []string{"cfg.yaml:1: token_ttl: must be a positive duration"}},
		{"zero ttl", "token_ttl: 0s\napis: [{audience: a}]\n", []string{"cfg.yaml:1: token_ttl:"}},
		{"no apis", "clients: []\n", []string{"cfg.yaml:1: apis: at least one API"}},
		{"duplicate audience", "apis:\n  - audience: a\n  - audience: a\n", []string{"cfg.yaml:3: apis[1].audience: audience \"a\" is defined twice"}},
		{"scope with space", "apis:\n  - audience: a\n    scopes: [\"x y\"]\n", []string{"cfg.yaml:3: apis[0].scopes[0]:"}},
		{"duplicate client", "apis: [{audience: a}]\nclients:\n  - {id: c, secret: s}\n  - {id: c, secret: t}\n",
			[]string{"cfg.yaml:4: clients[1].id: client id \"c\" is defined twice"}},
		{"grant for unknown audience", "apis: [{audience: a, scopes: [r]}]\nclients:\n  - id: c\n    secret: s\n    grants:\n      b: [r]\n",
			[]string{"cfg.yaml:6: clients[0].grants[b]: audience \"b\" is not one of apis[].audience"}},
		{"grant with undefined scope", "apis: [{audience: a, scopes: [r]}]\nclients:\n  - id: c\n    secret: s\n    grants:\n      a: [r, w]\n",
			[]string{"cfg.yaml:6: clients[0].grants[a][1]: scope \"w\" is not defined on API \"a\""}},
		{"public client with secret", "apis: [{audience: a}]\nclients:\n  - id: c\n    public: true\n    secret: s\n",
			[]string{"cfg.yaml:5: clients[0].secret: client \"c\" is public"}},
		{"public client with grants", "apis: [{audience: a}]\nclients:\n  - id: c\n    public: true\n    grants: {a: []}\n",
			[]string{"cfg.yaml:5: clients[0].grants: client \"c\" is public and cannot use client_credentials"}},
		{"confidential client without secret", "apis: [{audience: a}]\nclients:\n  - id: c\n", []string{"cfg.yaml:3: clients[0].secret: client \"c\" needs a secret"}},
		{"user without password, duplicate, bad scope", "apis: [{audience: a, scopes: [r]}]\nusers:\n  - username: u\n  - username: u\n    password: p\n    scopes: {a: [w]}\n",
			[]string{"cfg.yaml:3: users[0].password", "cfg.yaml:4: users[1].username: username \"u\" is defined twice", "cfg.yaml:6: users[1].scopes[a][0]: scope \"w\" is not defined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.yaml), "cfg.yaml")
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			msg, at := err.Error(), 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q\nwant it to contain %q (after offset %d)", msg, w, at)
				}
				at += i + len(w)
			}
		})
	}
}

func TestParseConfigDefaultsTTL(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte("apis: [{audience: a, scopes: [r]}]\nclients: [{id: c, secret: s, grants: {a: [r]}}]\n"), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenTTL != 24*time.Hour {
		t.Fatalf("TokenTTL %v, want the 24h default when token_ttl is left out", cfg.TokenTTL)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(good, []byte("token_ttl: 5m\n"+contractDefault[len("token_ttl: 24h\n"):]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenTTL != 5*time.Minute {
		t.Fatalf("TokenTTL %v", cfg.TokenTTL)
	}
}

// TestLoadConfigFileErrors: a config file that cannot be read is a *ConfigFileError naming it, wrapping the cause,
// and wording no flag (client tenant adds --config); a file read but invalid is not one.
func TestLoadConfigFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxConfigBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.yaml")
	if err := os.WriteFile(invalid, []byte("apis: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name     string
		path     string
		fileErr  bool  // a *ConfigFileError
		is       error // the cause it wraps
		contains string
	}{
		{"missing", missing, true, fs.ErrNotExist, "read tenant config " + missing + ": "},
		{"a directory", dir, true, nil, "read tenant config " + dir + ": "},
		{"too large", big, true, ErrConfigTooLarge, fmt.Sprintf("config file is larger than %d bytes", maxConfigBytes)},
		{"invalid YAML", invalid, false, nil, invalid + ":"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.path)
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			cfe, ok := errors.AsType[*ConfigFileError](err)
			if ok != tc.fileErr || (ok && (cfe.Path != tc.path || cfe.Err == nil)) {
				t.Fatalf("LoadConfig: %v (a *ConfigFileError: %v), want one: %v", err, ok, tc.fileErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("%q lacks %q", err, tc.contains)
			}
			assertNoFlagNames(t, err.Error())
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	bad := DefaultConfig()
	bad.Clients = append(bad.Clients, Client{ID: "cli", Public: true})
	tests := []struct {
		name string
		cfg  *Config
		opts Options
		is   error // a sentinel it wraps, or nil
		want string
	}{
		{"nil config", nil, Options{Issuer: "http://localhost:4000/"}, nil, "nil config"},
		{"invalid config", bad, Options{Issuer: "http://localhost:4000/"}, nil, "defined twice"},
		{"relative issuer", DefaultConfig(), Options{Issuer: "localhost:4000"}, ErrBadIssuer, `issuer "localhost:4000": not an absolute http(s) URL`},
		{"ftp issuer", DefaultConfig(), Options{Issuer: "ftp://x/"}, ErrBadIssuer, `issuer "ftp://x/"`},
		{"empty issuer", DefaultConfig(), Options{}, ErrBadIssuer, `issuer ""`},
		{"bad allowed host", DefaultConfig(), Options{Issuer: "http://localhost:4000/", AllowedHosts: []string{"a b"}},
			ErrBadAllowedHost, `allowed host "a b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("New: %v does not wrap %v", err, tc.is)
			}
			assertNoFlagNames(t, err.Error())
		})
	}
}

func TestNormalizeIssuer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://localhost:4000":    "http://localhost:4000/",
		"http://localhost:4000/":   "http://localhost:4000/",
		"https://tenant/a/b":       "https://tenant/a/b/",
		"http://tenant:4000/?x=1":  "",
		"tenant.eu.auth0.com":      "",
		"http:///no-host":          "",
		"https://tenant/#fragment": "",
	} {
		got, err := NormalizeIssuer(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormalizeIssuer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
