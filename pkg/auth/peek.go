package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// peekIssuer reads iss from a compact JWS's payload without verifying anything: only to pick a key set.
func peekIssuer(token string) (string, bool) {
	first := strings.IndexByte(token, '.')
	if first < 0 {
		return "", false
	}
	rest := token[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(rest[:second])
	if err != nil || !json.Valid(payload) {
		return "", false
	}
	d := claimsDecoder{b: payload}
	d.space()
	if !d.eat('{') {
		return "", false
	}
	iss := ""
	for {
		d.space()
		if d.eat('}') {
			return iss, true
		}
		if d.eat(',') {
			continue
		}
		key, err := d.key()
		if err != nil {
			return "", false
		}
		d.space()
		d.eat(':')
		d.space()
		if string(key) == "iss" {
			if iss, err = d.optStr(); err != nil {
				return "", false // a non-string iss: malformed, as the full decoder says
			}
			continue // a repeated iss keeps its last value, as the full decoder does
		}
		if err := d.skip(); err != nil {
			return "", false
		}
	}
}
