package tenant

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fieldError is one validation failure at a path such as clients[1].grants[https://x][0].
type fieldError struct {
	path []any // string: mapping key, int: sequence index
	msg  string
	line int // in the file, 0 when unknown
}

func (c *Config) validate(name string, doc *yaml.Node) error {
	var errs []fieldError
	add := func(msg string, path ...any) {
		errs = append(errs, fieldError{path: append([]any(nil), path...), msg: msg})
	}

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
			add(fmt.Sprintf("client %q needs a secret, or public: true for a device-flow or browser/native login client", cl.ID), "clients", i, "secret")
		}
		checkGrants(cl.Grants, "clients", i, "grants")
		validateLoginClient(cl, func(msg string, path ...any) { add(msg, append([]any{"clients", i}, path...)...) })
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
		if strings.ContainsAny(u.Name, "\r\n") || strings.ContainsAny(u.Email, " \t\r\n") {
			add(fmt.Sprintf("user %q: name must be one line and email must have no spaces", u.Username), "users", i)
		}
		checkGrants(u.Scopes, "users", i, "scopes")
	}

	if len(errs) == 0 {
		return nil
	}
	// Report top to bottom in the file; map iteration order must not leak into the output.
	for i := range errs {
		errs[i].line = locate(doc, errs[i].path)
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].line != errs[j].line {
			return errs[i].line < errs[j].line
		}
		return errs[i].msg < errs[j].msg
	})
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		pos := name
		if e.line > 0 {
			pos += ":" + strconv.Itoa(e.line)
		}
		lines = append(lines, fmt.Sprintf("%s: %s: %s", pos, fieldName(e.path), e.msg))
	}
	return errors.New(strings.Join(lines, "\n"))
}
