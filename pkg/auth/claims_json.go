package auth

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// errClaimType reports a claim of the wrong JSON type (e.g. a numeric iss); the token is malformed.
var errClaimType = errors.New("claim has the wrong JSON type")

// UnmarshalJSON decodes the claims without reflection: on the uncached path JSON decoding is the largest cost after
// the RSA verification itself. golang-jwt calls it through encoding/json, which has already checked that data is
// one valid JSON value, so this scanner can rely on well-formed input. Claim names match exactly (RFC 7519 names
// are case-sensitive, unlike encoding/json's field matching); unknown claims are skipped; a repeated claim keeps
// its last value; null is the zero value; NumericDates must be JSON numbers (RFC 7519), never numeric strings.
func (c *Claims) UnmarshalJSON(data []byte) error {
	d := claimsDecoder{b: data, interns: c.interns}
	d.space()
	if !d.eat('{') {
		return errClaimType
	}
	var (
		out   Claims
		dates [3]*jwt.NumericDate // exp, nbf, iat as read; moved into c.dates at the end
	)
	for {
		d.space()
		if d.eat('}') {
			break
		}
		if d.eat(',') {
			continue
		}
		key, err := d.key()
		if err != nil {
			return err
		}
		d.space()
		d.eat(':')
		d.space()
		switch string(key) {
		case "iss":
			out.Issuer, err = d.optInterned()
		case "sub":
			out.Subject, err = d.optStr()
		case "jti":
			out.ID, err = d.optStr()
		case "scope":
			out.Scope, err = d.optStr()
		case "aud":
			out.Audience, err = d.audience()
		case "permissions":
			out.Permissions, err = d.strings()
		case "exp":
			dates[0], err = d.date()
		case "nbf":
			dates[1], err = d.date()
		case "iat":
			dates[2], err = d.date()
		case "cnf":
			out.Confirmation, err = d.confirmation()
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
	*c = out
	for i, p := range []**jwt.NumericDate{&c.ExpiresAt, &c.NotBefore, &c.IssuedAt} {
		if dates[i] != nil {
			c.dates[i] = *dates[i]
			*p = &c.dates[i]
		}
	}
	return nil
}

// claimsDecoder scans JSON that encoding/json has already validated.
type claimsDecoder struct {
	b       []byte
	i       int
	interns interns // may be nil: then nothing is interned
}

func (d *claimsDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *claimsDecoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *claimsDecoder) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// scan passes over a string, returning its raw contents and whether they need no unescaping (ASCII, no '\\').
func (d *claimsDecoder) scan() (raw []byte, plain bool, err error) {
	if !d.eat('"') {
		return nil, false, errClaimType
	}
	start := d.i
	plain = true
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], plain, nil
		case c == '\\':
			plain = false
			d.i += 2
		case c >= 0x80:
			plain = false
			d.i++
		default:
			d.i++
		}
	}
	return nil, false, errClaimType
}

// str reads a string; escapes and non-ASCII go through encoding/json so the result matches it byte for byte.
func (d *claimsDecoder) str() (string, error) {
	raw, plain, err := d.scan()
	if err != nil || plain {
		return string(raw), err
	}
	var s string
	err = json.Unmarshal(d.b[d.i-len(raw)-2:d.i], &s)
	return s, err
}

// key reads an object key without allocating in the common (plain) case.
func (d *claimsDecoder) key() ([]byte, error) {
	raw, plain, err := d.scan()
	if err != nil || plain {
		return raw, err
	}
	var s string
	err = json.Unmarshal(d.b[d.i-len(raw)-2:d.i], &s)
	return []byte(s), err
}

// optStr reads a string or null (the empty string), as encoding/json treats null for a string field.
func (d *claimsDecoder) optStr() (string, error) {
	if d.null() {
		return "", nil
	}
	return d.str()
}

// interned reads a string, returning the configured issuer or audience it equals instead of a new copy: every
// token repeats them, and a cache of thousands of claims then holds one string, not thousands.
func (d *claimsDecoder) interned() (string, error) {
	raw, plain, err := d.scan()
	if err != nil {
		return "", err
	}
	if plain {
		if s, ok := d.interns[string(raw)]; ok { // the conversion in a map index does not allocate
			return s, nil
		}
		return string(raw), nil
	}
	var s string
	err = json.Unmarshal(d.b[d.i-len(raw)-2:d.i], &s)
	return s, err
}

// optInterned is interned for a string or null (the empty string).
func (d *claimsDecoder) optInterned() (string, error) {
	if d.null() {
		return "", nil
	}
	return d.interned()
}

// internedStrings is strings with each entry interned.
func (d *claimsDecoder) internedStrings() ([]string, error) { return d.stringsWith(d.interned) }

// strings reads null or an array of strings.
func (d *claimsDecoder) strings() ([]string, error) { return d.stringsWith(d.str) }

func (d *claimsDecoder) stringsWith(str func() (string, error)) ([]string, error) {
	if d.null() {
		return nil, nil
	}
	if !d.eat('[') {
		return nil, errClaimType
	}
	out := []string{}
	for {
		d.space()
		if d.eat(']') {
			return out, nil
		}
		if d.eat(',') {
			continue
		}
		s, err := str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

// audience reads aud as golang-jwt's ClaimStrings does: a string, an array of strings, or null.
func (d *claimsDecoder) audience() (jwt.ClaimStrings, error) {
	if d.i < len(d.b) && d.b[d.i] == '"' {
		s, err := d.interned()
		return jwt.ClaimStrings{s}, err
	}
	list, err := d.internedStrings()
	if err != nil {
		return nil, jwt.ErrInvalidType
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// maxNumericDate bounds exp, nbf and iat in seconds: far beyond any real date, well within int64 and time.Time.
const maxNumericDate = 1 << 62

// date reads a NumericDate exactly as golang-jwt does (seconds, fractions allowed, truncated to TimePrecision).
func (d *claimsDecoder) date() (*jwt.NumericDate, error) {
	if d.null() {
		return nil, nil
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		d.i++
	}
	if start == d.i {
		return nil, errClaimType
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	if err != nil || math.Abs(f) > maxNumericDate {
		// Beyond ±2^62 s (about 1.5e11 years) int64 seconds and time.Time would wrap: refuse, never reinterpret.
		return nil, errClaimType
	}
	round, frac := math.Modf(f)
	return jwt.NewNumericDate(time.Unix(int64(round), int64(frac*1e9))), nil
}

// confirmation reads cnf: null (absent) or an object whose jkt, if present, is a string; other confirmation
// members (x5t#S256, jwk, …) are skipped but still make the token bound.
func (d *claimsDecoder) confirmation() (*Confirmation, error) {
	if d.null() {
		return nil, nil
	}
	if !d.eat('{') {
		return nil, errClaimType
	}
	out := &Confirmation{}
	for {
		d.space()
		if d.eat('}') {
			return out, nil
		}
		if d.eat(',') {
			continue
		}
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		d.space()
		d.eat(':')
		d.space()
		if string(key) == "jkt" {
			if out.JKT, err = d.str(); err != nil {
				return nil, err
			}
			continue
		}
		if err := d.skip(); err != nil {
			return nil, err
		}
	}
}

// skip passes over any value; the input is known to be valid JSON.
func (d *claimsDecoder) skip() error {
	if d.i >= len(d.b) {
		return errClaimType
	}
	switch d.b[d.i] {
	case '"':
		_, _, err := d.scan()
		return err
	case '{', '[':
		depth := 0
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case '"':
				if _, _, err := d.scan(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			d.i++
			if depth == 0 {
				return nil
			}
		}
		return errClaimType
	default:
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return nil
			}
			d.i++
		}
		return nil
	}
}
