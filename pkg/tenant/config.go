package tenant

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
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
	// Users can approve device-flow logins on the /activate page.
	Users []User `yaml:"users"`
}

// API is a resource server: tokens name it in aud and carry a subset of its scopes.
type API struct {
	Audience string   `yaml:"audience"`
	Scopes   []string `yaml:"scopes"`
}

// Client is an application. Confidential clients (with a secret) use client_credentials within their grants;
// public clients have no secret and only start device flows.
type Client struct {
	ID     string              `yaml:"id"`
	Secret string              `yaml:"secret"`
	Public bool                `yaml:"public"`
	Grants map[string][]string `yaml:"grants"` // audience -> scopes the client may get
}

// User is a person who can approve a device login; their tokens carry the scopes granted here.
type User struct {
	Username string              `yaml:"username"`
	Password string              `yaml:"password"`
	Scopes   map[string][]string `yaml:"scopes"` // audience -> scopes the user may get
}

// DefaultConfig is the built-in configuration of the contract, fresh on every call so callers may change it.
func DefaultConfig() *Config {
	cfg, err := ParseConfig(defaultYAML, "built-in default")
	if err != nil {
		panic("tenant: the embedded default configuration is invalid: " + err.Error())
	}
	return cfg
}

// LoadConfig reads and validates a YAML config file; errors name the file, the line and the field to fix.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the config file on purpose
	if err != nil {
		return nil, fmt.Errorf("read tenant config (--config): %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read tenant config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("%s: config file is larger than %d bytes; is --config the right file?", path, maxConfigBytes)
	}
	return ParseConfig(data, path)
}

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

// yamlError turns the decoder's "line N: ..." messages into "name:N: field: ..." lines, like validation errors.
func yamlError(name string, doc *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, m := range te.Errors {
		rest, ok := strings.CutPrefix(m, "line ")
		n, msg, _ := strings.Cut(rest, ": ")
		line, aerr := strconv.Atoi(n)
		if !ok || aerr != nil {
			msgs = append(msgs, name+": "+m)
			continue
		}
		if field, _, found := strings.Cut(strings.TrimPrefix(msg, "field "), " not found in type"); found {
			msg = fmt.Sprintf("unknown field %q; see the built-in default for the schema", field)
		}
		if path := pathAtLine(doc, line); len(path) > 0 {
			msg = fieldName(path) + ": " + msg
		}
		msgs = append(msgs, fmt.Sprintf("%s:%d: %s", name, line, msg))
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// pathAtLine is the path of the first mapping key or sequence item that starts on line, for naming a field.
func pathAtLine(n *yaml.Node, line int) []any {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line {
				return []any{k.Value}
			}
			if sub := pathAtLine(v, line); sub != nil {
				return append([]any{k.Value}, sub...)
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if sub := pathAtLine(item, line); sub != nil {
				return append([]any{i}, sub...)
			}
			if item.Line == line {
				return []any{i}
			}
		}
	}
	return nil
}

// fieldError is one validation failure at a path such as clients[1].grants[https://x][0].
type fieldError struct {
	path []any // string: mapping key, int: sequence index
	msg  string
}

func (c *Config) validate(name string, doc *yaml.Node) error {
	var errs []fieldError
	add := func(msg string, path ...any) { errs = append(errs, fieldError{path: path, msg: msg}) }

	if c.TokenTTL <= 0 {
		add(fmt.Sprintf("must be a positive duration such as 24h or 15m, not %s", c.TokenTTL), "token_ttl")
	}
	if len(c.APIs) == 0 {
		add("at least one API (audience and scopes) is required", "apis")
	}
	apis := map[string]map[string]bool{}
	for i, a := range c.APIs {
		switch {
		case strings.TrimSpace(a.Audience) == "":
			add("is required", "apis", i, "audience")
		case apis[a.Audience] != nil:
			add(fmt.Sprintf("audience %q is defined twice", a.Audience), "apis", i, "audience")
		}
		scopes := map[string]bool{}
		for j, s := range a.Scopes {
			switch {
			case s == "" || strings.ContainsAny(s, " \t\r\n\"\\"):
				add(fmt.Sprintf("scope %q must be non-empty without spaces, quotes or backslashes", s), "apis", i, "scopes", j)
			case scopes[s]:
				add(fmt.Sprintf("scope %q is listed twice", s), "apis", i, "scopes", j)
			}
			scopes[s] = true
		}
		if apis[a.Audience] == nil {
			apis[a.Audience] = scopes
		}
	}

	checkGrants := func(grants map[string][]string, path ...any) {
		for aud, scopes := range grants {
			known, ok := apis[aud]
			if !ok {
				add(fmt.Sprintf("audience %q is not one of apis[].audience", aud), append(path, aud)...)
				continue
			}
			for j, s := range scopes {
				if !known[s] {
					add(fmt.Sprintf("scope %q is not defined on API %q", s, aud), append(path, aud, j)...)
				}
			}
		}
	}

	clients := map[string]bool{}
	for i, cl := range c.Clients {
		switch {
		case cl.ID == "" || strings.ContainsAny(cl.ID, " \t\r\n:"):
			add(fmt.Sprintf("client id %q must be non-empty without spaces or colons", cl.ID), "clients", i, "id")
		case clients[cl.ID]:
			add(fmt.Sprintf("client id %q is defined twice", cl.ID), "clients", i, "id")
		}
		clients[cl.ID] = true
		if cl.Public {
			if cl.Secret != "" {
				add(fmt.Sprintf("client %q is public (device flow) and must not have a secret; remove secret or public", cl.ID), "clients", i, "secret")
			}
			if len(cl.Grants) > 0 {
				add(fmt.Sprintf("client %q is public and cannot use client_credentials; remove its grants", cl.ID), "clients", i, "grants")
			}
		} else if cl.Secret == "" {
			add(fmt.Sprintf("client %q needs a secret, or public: true for a device-flow client", cl.ID), "clients", i, "secret")
		}
		checkGrants(cl.Grants, "clients", i, "grants")
	}

	users := map[string]bool{}
	for i, u := range c.Users {
		switch {
		case u.Username == "" || strings.ContainsAny(u.Username, " \t\r\n"):
			add(fmt.Sprintf("username %q must be non-empty without spaces", u.Username), "users", i, "username")
		case users[u.Username]:
			add(fmt.Sprintf("username %q is defined twice", u.Username), "users", i, "username")
		}
		users[u.Username] = true
		if u.Password == "" {
			add(fmt.Sprintf("user %q needs a password", u.Username), "users", i, "password")
		}
		checkGrants(u.Scopes, "users", i, "scopes")
	}

	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		pos := name
		if n := locate(doc, e.path); n > 0 {
			pos += ":" + strconv.Itoa(n)
		}
		lines = append(lines, fmt.Sprintf("%s: %s: %s", pos, fieldName(e.path), e.msg))
	}
	sortByLine(lines)
	return errors.New(strings.Join(lines, "\n"))
}

// fieldName writes a path as clients[1].grants[https://quickstarts/api][0].
func fieldName(path []any) string {
	var b strings.Builder
	inMap := false
	for i, p := range path {
		switch v := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		case string:
			switch {
			case inMap:
				b.WriteString("[" + v + "]")
				inMap = false
				continue
			case i > 0:
				b.WriteString(".")
			}
			b.WriteString(v)
			inMap = v == "grants" || (v == "scopes" && i > 0 && path[0] == "users")
		}
	}
	return b.String()
}

// sortByLine orders messages by position so a config with many mistakes reads top to bottom; map iteration
// order must not leak into the output.
func sortByLine(lines []string) {
	sort.SliceStable(lines, func(i, j int) bool {
		li, lj := lineNo(lines[i]), lineNo(lines[j])
		if li != lj {
			return li < lj
		}
		return lines[i] < lines[j]
	})
}

// lineNo reads N from "name:N: ..."; 0 when there is none.
func lineNo(s string) int {
	_, rest, ok := strings.Cut(s, ":")
	if !ok {
		return 0
	}
	n, _, _ := strings.Cut(rest, ":")
	v, err := strconv.Atoi(n)
	if err != nil {
		return 0
	}
	return v
}

// locate finds the line of the YAML node at path, or of its deepest existing ancestor; 0 without a document.
func locate(doc *yaml.Node, path []any) int {
	if doc == nil {
		return 0
	}
	n, line := doc, doc.Line
	for _, p := range path {
		switch v := p.(type) {
		case string:
			key, val := lookupKV(n, v)
			if key == nil {
				return line
			}
			n, line = val, key.Line
		case int:
			if n.Kind != yaml.SequenceNode || v >= len(n.Content) {
				return line
			}
			n = n.Content[v]
			line = n.Line
		}
	}
	return line
}

// lookup returns the value under key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	_, v := lookupKV(n, key)
	return v
}

func lookupKV(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}
