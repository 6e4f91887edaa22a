package httpcall

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Challenge is one authentication challenge from a WWW-Authenticate header (RFC 7235 §2.1). Scheme keeps the case
// the server wrote (compare with Is); parameter names are lower-cased because they are case-insensitive.
type Challenge struct {
	Scheme string
	Params map[string]string
	// Token68 is the challenge's token68 form (e.g. "Negotiate abc=="), empty when it has parameters instead.
	Token68 string
}

// Is reports whether the challenge uses scheme, compared case-insensitively as RFC 7235 requires.
func (c Challenge) Is(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// Param returns the parameter name (case-insensitive) and whether the challenge has it.
func (c Challenge) Param(name string) (string, bool) {
	v, ok := c.Params[strings.ToLower(name)]
	return v, ok
}

// String formats the challenge canonically (parameters sorted, values quoted), so ParseChallenges(c.String())
// gives c back.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteString(" ")
		b.WriteString(c.Token68)
		return b.String()
	}
	names := make([]string, 0, len(c.Params))
	for k := range c.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		if i == 0 {
			b.WriteString(" ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(quote(c.Params[k]))
	}
	return b.String()
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Challenges parses every WWW-Authenticate field of h (several fields are one comma-separated list).
func Challenges(h http.Header) ([]Challenge, error) {
	vals := h.Values("WWW-Authenticate")
	if len(vals) == 0 {
		return nil, nil
	}
	return ParseChallenges(strings.Join(vals, ", "))
}

// ErrMalformedChallenge marks a WWW-Authenticate value that does not follow RFC 7235's grammar.
var ErrMalformedChallenge = errors.New("malformed WWW-Authenticate")

// ParseChallenges parses a WWW-Authenticate value: one or more challenges, each a scheme followed by a token68 or
// by comma-separated auth-params whose values are tokens or quoted-strings (escapes undone). An empty value gives
// no challenges and no error; anything outside the grammar (including a parameter given twice) is an error
// wrapping ErrMalformedChallenge. It never panics, whatever the input.
func ParseChallenges(header string) ([]Challenge, error) {
	p := &challengeParser{s: header}
	var out []Challenge
	for {
		p.skipListSeparators()
		if p.done() {
			return out, nil
		}
		c, err := p.challenge()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedChallenge, err)
		}
		out = append(out, c)
	}
}

type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) done() bool { return p.i >= len(p.s) }

func (p *challengeParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *challengeParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *challengeParser) skipListSeparators() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *challengeParser) token() string {
	start := p.i
	for !p.done() && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// challenge reads one challenge starting at a scheme and stops before the separator of the next challenge.
func (p *challengeParser) challenge() (Challenge, error) {
	at := p.i
	scheme := p.token()
	if scheme == "" {
		return Challenge{}, fmt.Errorf("expected an auth-scheme at offset %d", at)
	}
	c := Challenge{Scheme: scheme, Params: map[string]string{}}
	if p.done() || p.peek() == ',' {
		return c, nil
	}
	if p.peek() != ' ' && p.peek() != '\t' {
		return Challenge{}, fmt.Errorf("unexpected %q after scheme %q at offset %d", p.peek(), scheme, p.i)
	}
	p.skipOWS()
	if p.done() || p.peek() == ',' {
		return c, nil
	}
	if t, ok := p.token68(); ok {
		c.Token68 = t
		return c, nil
	}
	for {
		if err := p.param(c.Params); err != nil {
			return Challenge{}, err
		}
		p.skipOWS()
		if p.done() {
			return c, nil
		}
		if p.peek() != ',' {
			return Challenge{}, fmt.Errorf("expected ',' at offset %d, got %q", p.i, p.peek())
		}
		// After a comma comes either another parameter of this challenge or the next challenge.
		save := p.i
		p.skipListSeparators()
		if p.done() || !p.startsParam() {
			p.i = save
			return c, nil
		}
	}
}

// token68 reads a token68 if one (followed only by whitespace and then a comma or the end) starts here.
func (p *challengeParser) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return "", false
	}
	t := p.s[p.i:j]
	p.i = j
	return t, true
}

// startsParam looks ahead for `token BWS "="` without consuming anything.
func (p *challengeParser) startsParam() bool {
	j := p.i
	for j < len(p.s) && isTchar(p.s[j]) {
		j++
	}
	if j == p.i {
		return false
	}
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	return j < len(p.s) && p.s[j] == '='
}

func (p *challengeParser) param(params map[string]string) error {
	at := p.i
	name := strings.ToLower(p.token())
	if name == "" {
		return fmt.Errorf("expected a parameter name at offset %d", at)
	}
	p.skipOWS()
	if p.peek() != '=' {
		return fmt.Errorf("expected '=' after parameter %q at offset %d", name, p.i)
	}
	p.i++
	p.skipOWS()
	var value string
	if p.peek() == '"' {
		v, err := p.quoted()
		if err != nil {
			return err
		}
		value = v
	} else {
		value = p.token()
		if value == "" {
			return fmt.Errorf("parameter %q has no value at offset %d", name, p.i)
		}
	}
	if _, dup := params[name]; dup {
		return fmt.Errorf("parameter %q appears twice in one challenge", name)
	}
	params[name] = value
	return nil
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) and returns its value with quoted-pairs undone.
func (p *challengeParser) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		ch := p.s[p.i]
		switch {
		case ch == '"':
			p.i++
			return b.String(), nil
		case ch == '\\':
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("unterminated quoted-string at offset %d", start)
			}
			next := p.s[p.i+1]
			if !isQuotedPairChar(next) {
				return "", fmt.Errorf("invalid escape %q at offset %d", next, p.i)
			}
			b.WriteByte(next)
			p.i += 2
		case ch == '\t' || ch == ' ' || ch == 0x21 || (ch >= 0x23 && ch <= 0x7e) || ch >= 0x80:
			b.WriteByte(ch)
			p.i++
		default:
			return "", fmt.Errorf("control character %q in quoted-string at offset %d", ch, p.i)
		}
	}
	return "", fmt.Errorf("unterminated quoted-string at offset %d", start)
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80
}

// isTchar reports RFC 9110 tchar: "!#$%&'*+-.^_`|~", digits and letters.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}
