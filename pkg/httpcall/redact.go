package httpcall

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// redactedMark ends every value the client hides, so a reader knows something was there.
const redactedMark = "…(redacted)"

// secretFields are hidden completely: no prefix of a secret is ever shown.
var secretFields = map[string]bool{
	"client_secret": true, "password": true, "client_assertion": true, "assertion": true, "code_verifier": true,
}

// tokenFields show their first characters (enough to tell a JWT from an opaque token) and nothing else.
var tokenFields = map[string]bool{
	"access_token": true, "id_token": true, "refresh_token": true, "device_code": true, "code": true,
	"subject_token": true, "actor_token": true, "token": true,
}

// jwtLike finds compact JWS/JWE strings anywhere in free text.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)*`)

// RedactToken shows the first four characters of a token and hides the rest ("eyJh…(redacted)").
func RedactToken(tok string) string {
	if len(tok) <= 8 {
		return redactedMark
	}
	return tok[:4] + redactedMark
}

// RedactHeaderValue hides credentials in a header value: Authorization keeps its scheme and a token prefix, cookies
// and other credential headers are hidden whole; other headers come back unchanged.
func RedactHeaderValue(name, value string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization":
		scheme, cred, ok := strings.Cut(strings.TrimSpace(value), " ")
		if !ok {
			return redactedMark
		}
		if strings.EqualFold(scheme, "Bearer") {
			return scheme + " " + RedactToken(strings.TrimSpace(cred))
		}
		return scheme + " " + redactedMark
	case "Cookie", "Set-Cookie", "X-Api-Key", "Api-Key":
		return redactedMark
	}
	return jwtLike.ReplaceAllStringFunc(value, RedactToken)
}

// RedactBody hides secrets and tokens in a request or response body: form and JSON fields by name (client_secret,
// password, access_token, id_token, …), and anything that looks like a JWT elsewhere.
func RedactBody(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return redactForm(string(body))
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			if out, err := json.Marshal(redactJSON(v)); err == nil {
				return string(out)
			}
		}
	}
	return redactText(string(body))
}

// namedField finds `name=value`, `"name": "value"` and `name: value` pairs of sensitive fields in text that could
// not be parsed (truncated or malformed bodies), so a secret is hidden even there.
var namedField = regexp.MustCompile(`(?i)("?\b(client_secret|password|client_assertion|assertion|code_verifier|` +
	`access_token|id_token|refresh_token|device_code|code|subject_token|actor_token|token)"?\s*[:=]\s*"?)([^"&\s,}]*)`)

func redactText(s string) string {
	s = namedField.ReplaceAllStringFunc(s, func(m string) string {
		sub := namedField.FindStringSubmatch(m)
		return sub[1] + redactField(sub[2], sub[3])
	})
	return jwtLike.ReplaceAllStringFunc(s, RedactToken)
}

// redactForm redacts a form body pair by pair, keeping the order and encoding as sent.
func redactForm(body string) string {
	pairs := strings.Split(body, "&")
	for i, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			value = v
		}
		if red := redactField(name, value); red != value {
			pairs[i] = k + "=" + red
		}
	}
	return strings.Join(pairs, "&")
}

func redactField(name, value string) string {
	switch {
	case secretFields[strings.ToLower(name)]:
		return redactedMark
	case tokenFields[strings.ToLower(name)]:
		return RedactToken(value)
	}
	return jwtLike.ReplaceAllStringFunc(value, RedactToken)
}

func redactJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok {
				t[k] = redactField(k, s)
				continue
			}
			t[k] = redactJSON(val)
		}
		return t
	case []any:
		for i := range t {
			t[i] = redactJSON(t[i])
		}
		return t
	case string:
		return jwtLike.ReplaceAllStringFunc(t, RedactToken)
	}
	return v
}
