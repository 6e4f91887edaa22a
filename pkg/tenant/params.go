package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// maxParamsBytes bounds /oauth/token and /oauth/device/code bodies; real requests are a few hundred bytes.
const maxParamsBytes = 64 << 10

// readParams reads an OAuth request body: application/x-www-form-urlencoded (RFC 6749) or Auth0's JSON object
// of strings. A parameter given twice, a non-string JSON value or a body over the limit is an error.
func readParams(w http.ResponseWriter, r *http.Request) (map[string]string, *oauthError) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	if mediaType != "application/x-www-form-urlencoded" && mediaType != "application/json" {
		return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	body, oerr := readBody(w, r, maxParamsBytes)
	if oerr != nil {
		return nil, oerr
	}
	if mediaType == "application/json" {
		return jsonParams(body)
	}
	return formParams(body)
}

func formParams(body []byte) (map[string]string, *oauthError) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errInvalidRequest("malformed form body: " + err.Error())
	}
	params := make(map[string]string, len(values))
	for k, v := range values {
		if len(v) > 1 {
			return nil, errInvalidRequest(fmt.Sprintf("parameter %q is given more than once", k))
		}
		params[k] = v[0]
	}
	return params, nil
}

func jsonParams(body []byte) (map[string]string, *oauthError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, errInvalidRequest("body is not a JSON object of string parameters")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errInvalidRequest("body has data after its JSON object")
	}
	params := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, errInvalidRequest(fmt.Sprintf("parameter %q must be a JSON string", k))
		}
		params[k] = s
	}
	return params, nil
}

// readBody reads at most limit bytes of the request body; a larger body is 413, an unreadable one 400.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *oauthError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return nil, &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request",
				description: fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		return nil, errInvalidRequest("could not read the request body")
	}
	return body, nil
}
