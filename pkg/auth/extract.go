package auth

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormPeek bounds how much of a form body is read to look for a second access_token.
const maxFormPeek = 64 << 10

// errMultipleTokens answers 400 invalid_request: RFC 6750 §2 forbids sending a token by more than one method.
var errMultipleTokens = errors.New("access token sent in more than one place")

// bearerToken extracts the token of an Authorization header value with scheme Bearer (any case). ok is false for
// any other scheme or a Bearer with no token; whatever follows the scheme is returned trimmed, so "Bearer a b"
// yields "a b" and is rejected later as malformed rather than silently treated as missing.
func bearerToken(header string) (token string, ok bool) { return schemeToken(header, "bearer") }

// dpopToken is bearerToken for the DPoP scheme (RFC 9449 §7.1), also case-insensitive.
func dpopToken(header string) (token string, ok bool) { return schemeToken(header, "dpop") }

// schemeToken is the credential after scheme (lower case; matched in any case) and at least one space or tab.
func schemeToken(header, scheme string) (token string, ok bool) {
	if len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	rest := header[len(scheme):]
	if rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	token = strings.Trim(rest, " \t")
	return token, token != ""
}

// extractToken is extractCredential for Bearer only (DPoP treated as an unknown scheme).
func extractToken(r *http.Request) (string, error) {
	token, _, err := extractCredential(r, false)
	return token, err
}

// extractCredential reads the Authorization header: scheme Bearer, or DPoP when withDPoP. access_token in the
// query or a form body is never accepted as a credential, but alongside another token it is an error.
func extractCredential(r *http.Request, withDPoP bool) (string, Scheme, error) {
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return "", SchemeBearer, errMultipleTokens
	}
	var token string
	scheme := SchemeBearer
	places := 0
	if len(headers) == 1 {
		if t, ok := bearerToken(headers[0]); ok {
			token = t
			places++
		} else if t, ok := dpopToken(headers[0]); ok && withDPoP {
			token, scheme = t, SchemeDPoP
			places++
		}
	}
	if strings.Contains(r.URL.RawQuery, "access_token") {
		places += countTokens(r.URL.Query()["access_token"])
	}
	if places > 1 {
		return "", scheme, errMultipleTokens
	}
	if places == 1 {
		n, err := formTokens(r)
		if err != nil {
			return "", scheme, err
		}
		if n > 0 {
			return "", scheme, errMultipleTokens
		}
	}
	return token, scheme, nil
}

func countTokens(values []string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// formTokens counts access_token fields in a urlencoded body without consuming it: the bytes read are put back
// in front of the body for the handler. Bodies over maxFormPeek are not inspected.
func formTokens(r *http.Request) (int, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return 0, nil
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return 0, nil
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return 0, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxFormPeek+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil || len(buf) > maxFormPeek {
		return 0, nil //nolint:nilerr // an unreadable or huge body is the handler's problem, not a second token
	}
	form, err := url.ParseQuery(string(buf))
	if err != nil {
		return 0, nil //nolint:nilerr // a malformed form carries no token we could count
	}
	return countTokens(form["access_token"]), nil
}
