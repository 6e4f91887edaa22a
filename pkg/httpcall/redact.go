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

// redactedMark stands where a hidden value was, so a reader knows something was there.
const redactedMark = "[redacted]"

// jwtShown is how much of a JWT stays visible: "eyJhbGciOi" is the start of any JOSE header, enough to tell a JWT
// from an opaque token and nothing about this one.
const jwtShown = 10

// secretFields are hidden completely: no prefix of a secret is ever shown.
var secretFields = map[string]bool{
	"client_secret": true, "password": true, "client_assertion": true, "assertion": true, "code_verifier": true,
}

// tokenFields show at most a JWT's first characters (RedactToken) and nothing else.
var tokenFields = map[string]bool{
	"access_token": true, "id_token": true, "refresh_token": true, "device_code": true, "code": true,
	"subject_token": true, "actor_token": true, "token": true,
}

// jwtLike finds compact JWS/JWE strings anywhere in free text.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)*`)

// looksLikeJWT reports whether s is shaped like a compact JWS/JWE (base64url JSON header, dot-separated parts).
func looksLikeJWT(s string) bool {
	m := jwtLike.FindStringIndex(s)
	return m != nil && m[0] == 0 && m[1] == len(s)
}

// RedactToken hides a token: a JWT keeps its first ten characters ("eyJhbGciOi…[redacted]"), anything else becomes
// "[redacted]", so an opaque token or a secret shows nothing at all.
func RedactToken(tok string) string {
	if strings.HasSuffix(tok, redactedMark) && (tok == redactedMark || strings.HasSuffix(tok, "…"+redactedMark)) {
		return tok // already redacted: redacting twice must not change the form
	}
	if looksLikeJWT(tok) && len(tok) > jwtShown {
		return tok[:jwtShown] + "…" + redactedMark
	}
	return redactedMark
}

// credentialHeaders are hidden by name; sensitiveNameParts hide any other header whose name contains one of them.
var (
	credentialHeaders = map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Auth-Token": true, "X-Api-Key": true, "Api-Key": true,
	}
	sensitiveNameParts = []string{"token", "secret", "key", "auth", "session", "cookie", "password", "passwd"}
	// challengeHeaders name an auth scheme but carry no credential, and -v must show them.
	challengeHeaders = map[string]bool{"Www-Authenticate": true, "Proxy-Authenticate": true}
	// urlHeaders carry a URL, whose query may hold a code or token.
	urlHeaders = map[string]bool{"Location": true, "Content-Location": true, "Referer": true}
)

// sensitiveHeader reports whether a header of this name carries credentials.
func sensitiveHeader(name string) bool {
	canon := http.CanonicalHeaderKey(name)
	if credentialHeaders[canon] {
		return true
	}
	if challengeHeaders[canon] {
		return false
	}
	lower := strings.ToLower(name)
	for _, part := range sensitiveNameParts {
		if strings.Contains(lower, part) {
			return true
		}
	}
	return false
}

// RedactHeaderValue hides credentials in a header value: Authorization keeps its scheme and a JWT's first
// characters; cookies and every header whose name says token, secret, key, auth, session, cookie or password are
// hidden; URLs in Location and Referer lose their sensitive query values; JWTs anywhere else are cut.
func RedactHeaderValue(name, value string) string {
	canon := http.CanonicalHeaderKey(name)
	switch {
	case canon == "Authorization" || canon == "Proxy-Authorization":
		scheme, cred, ok := strings.Cut(strings.TrimSpace(value), " ")
		if !ok || strings.ContainsAny(scheme, "=.") {
			return RedactToken(strings.TrimSpace(value))
		}
		return scheme + " " + RedactToken(strings.TrimSpace(cred))
	case canon == "Cookie" || canon == "Set-Cookie":
		return redactedMark
	case sensitiveHeader(name):
		return RedactToken(strings.TrimSpace(value))
	case urlHeaders[canon]:
		return RedactURL(value)
	}
	return RedactText(value)
}

// sensitiveParam reports whether a query or form parameter of this name holds a token or secret.
func sensitiveParam(name string) bool {
	lower := strings.ToLower(name)
	if secretFields[lower] || tokenFields[lower] {
		return true
	}
	for _, suffix := range describingSuffixes {
		if strings.HasSuffix(lower, suffix) {
			return false // token_type, token_endpoint, expires_in: about a token, not one
		}
	}
	for _, part := range []string{"token", "secret", "password", "passwd", "api_key", "apikey", "session", "credential"} {
		if strings.Contains(lower, part) {
			return true
		}
	}
	return false
}

// describingSuffixes end parameter names that describe a token or where to get one rather than hold one.
var describingSuffixes = []string{"_type", "_endpoint", "_uri", "_url", "_method", "_methods", "_supported", "_in", "_hint"}

// RedactURL hides what a URL may carry of a credential: userinfo, the values of sensitive query and fragment
// parameters (access_token, id_token, refresh_token, code, client_secret, token, …), and JWT-shaped strings
// anywhere. url.URL.Redacted hides only the password. A string that does not parse is redacted as free text.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Still hide what is recognisable: the query's pairs (a fragment's too), then named fields and JWTs.
		base, rest, hasQuery := strings.Cut(raw, "?")
		if !hasQuery {
			base, rest, hasQuery = strings.Cut(raw, "#")
		}
		out := jwtLike.ReplaceAllStringFunc(base, RedactToken)
		if hasQuery {
			out += raw[len(base):len(base)+1] + redactQuery(strings.ReplaceAll(rest, "#", "&#"))
			out = strings.ReplaceAll(out, "&#", "#")
		}
		return redactText(out)
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme + ":")
	}
	if u.Opaque != "" {
		b.WriteString(jwtLike.ReplaceAllStringFunc(u.Opaque, RedactToken))
	} else {
		if u.Scheme != "" || u.Host != "" || u.User != nil {
			b.WriteString("//")
			if u.User != nil {
				b.WriteString(redactedMark + "@")
			}
			b.WriteString(u.Host)
		}
		b.WriteString(jwtLike.ReplaceAllStringFunc(u.EscapedPath(), RedactToken))
	}
	if u.ForceQuery || u.RawQuery != "" {
		b.WriteString("?" + redactQuery(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#" + redactQuery(u.EscapedFragment()))
	}
	return b.String()
}

// redactQuery redacts a query string (or a fragment that holds parameters, as the implicit flow's does) pair by
// pair, keeping the order and encoding of what is not hidden.
func redactQuery(q string) string {
	pairs := strings.Split(q, "&")
	for i, pair := range pairs {
		k, v, hasValue := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			value = v
		}
		switch {
		case !hasValue:
			pairs[i] = jwtLike.ReplaceAllStringFunc(pair, RedactToken)
		case sensitiveParam(name):
			pairs[i] = k + "=" + RedactToken(value)
		case looksLikeJWT(value):
			pairs[i] = k + "=" + RedactToken(value)
		default:
			pairs[i] = k + "=" + jwtLike.ReplaceAllStringFunc(v, RedactToken)
		}
	}
	return strings.Join(pairs, "&")
}

// RedactJWTs cuts every JWT-shaped string in s and changes nothing else, for output whose other content must stay
// exactly as received (an API's answer).
func RedactJWTs(s string) string { return jwtLike.ReplaceAllStringFunc(s, RedactToken) }

// RedactError wraps err so that its message is redacted as RedactText does (a url.Error names the whole URL,
// query included) while errors.Is and errors.As still see err. nil stays nil.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return RedactText(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// urlInText finds http(s) URLs in free text such as an error message.
var urlInText = regexp.MustCompile(`https?://[^\s"'<>]+`)

// RedactText hides tokens and secrets in free text (error messages, unparsed bodies): URLs as RedactURL does,
// `name=value` and `"name": "value"` pairs of sensitive fields, and JWT-shaped strings.
func RedactText(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, RedactURL)
	return redactText(s)
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
	`access_token|id_token|refresh_token|device_code|code|subject_token|actor_token|token)"?\s*[:=]\s*"?)([^"&\s,;<>}]*)`)

// queryPairInText finds `?name=value` and `&name=value` pairs in free text, where a URL the text quotes was cut
// short of its query (a space in its path ends urlInText's match) or has no scheme, so sensitiveParam judges every
// parameter name there, as it does in a URL that parses.
var queryPairInText = regexp.MustCompile(`([?&])([^\s"'<>?&=#]+)=([^\s"'<>&#]*)`)

func redactText(s string) string {
	s = namedField.ReplaceAllStringFunc(s, func(m string) string {
		sub := namedField.FindStringSubmatch(m)
		return sub[1] + redactField(sub[2], sub[3])
	})
	s = queryPairInText.ReplaceAllStringFunc(s, func(m string) string {
		sub := queryPairInText.FindStringSubmatch(m)
		name, err := url.QueryUnescape(sub[2])
		if err != nil {
			name = sub[2]
		}
		return sub[1] + sub[2] + "=" + redactField(name, sub[3])
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
	case sensitiveParam(name):
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
