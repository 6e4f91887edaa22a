package tenant

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenEndpoint feeds /oauth/token and /oauth/device/code arbitrary bodies, content types and Authorization
// headers: the answer is always a JSON 4xx or a 200, never a 5xx or a panic.
func FuzzTokenEndpoint(f *testing.F) {
	seeds := []struct{ ct, authz, body string }{
		{"application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=quickstart-read&client_secret=read-secret&audience=https%3A%2F%2Fquickstarts%2Fapi"},
		{"application/json", "", `{"grant_type":"client_credentials","client_id":"quickstart-read","client_secret":"read-secret","audience":"https://quickstarts/api","scope":"read:messages"}`},
		{"application/x-www-form-urlencoded", "Basic cXVpY2tzdGFydC1yZWFkOnJlYWQtc2VjcmV0", "grant_type=client_credentials&audience=https%3A%2F%2Fquickstarts%2Fapi"},
		{"application/x-www-form-urlencoded", "", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=cli&device_code=x"},
		{"application/json", "", `{"grant_type":1}`},
		{"application/json; charset=utf-8", "Basic", `[]`},
		{"multipart/form-data; boundary=x", "Basic Og==", "--x--"},
		{"", "", "\x00\xff"},
		{"application/x-www-form-urlencoded", "", "a=%zz&a=1;b"},
		{"application/x-www-form-urlencoded", "", "grant_type=authorization_code&client_id=native&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback&code_verifier=" + strings.Repeat("v", 43)},
		{"application/json", "", `{"grant_type":"refresh_token","client_id":"spa","refresh_token":"x","scope":"openid"}`},
	}
	for _, s := range seeds {
		f.Add(s.ct, s.authz, s.body)
	}
	ten, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/"})
	if err != nil {
		f.Fatal(err)
	}
	h := ten.Handler()
	f.Fuzz(func(t *testing.T, contentType, authz, body string) {
		for _, path := range []string{PathToken, PathDeviceCode} {
			req := httptest.NewRequest(http.MethodPost, "http://localhost:4000"+path, strings.NewReader(body))
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			full := path == PathDeviceCode && rec.Code == http.StatusServiceUnavailable &&
				strings.Contains(rec.Body.String(), "temporarily_unavailable") // the documented bound on pending codes
			if rec.Code >= 500 && !full {
				t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body)
			}
			if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error":"`) {
				t.Fatalf("%s answered %d without an OAuth error body: %s", path, rec.Code, rec.Body)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("%s answered without Cache-Control: no-store", path)
			}
		}
	})
}

// FuzzMint feeds /dev/mint arbitrary bodies: the answer is a token or a JSON 4xx, never a 5xx or a panic.
func FuzzMint(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"claims":{"exp":1e400}}`, `{"header":{"alg":null,"kid":[1,{"a":null}]},"claims":{"sub":"\u0000"}}`,
		`{"claims":{"n":123456789012345678901234567890}}`, `{"claims":null}`, `[]`, `{"claims":{}} x`,
		`{"alg":"ES256","header":{"alg":"RS256"}}`, `{"alg":"PS512","claims":{"exp":"x"}}`, `{"alg":"HS256"}`, `{"alg":null}`} {
		f.Add(s)
	}
	ten, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", ECKey: true})
	if err != nil {
		f.Fatal(err)
	}
	h := ten.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "http://localhost:4000"+PathMint, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("answered %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzParseConfig feeds the config parser arbitrary YAML: it returns a valid config or an error, never panics,
// and what it accepts also passes Validate and starts a tenant's maps without surprises.
func FuzzParseConfig(f *testing.F) {
	f.Add(string(defaultYAML))
	f.Add("apis: [{audience: a, scopes: [r]}]\nclients: [{id: c, secret: s, grants: {a: [r]}}]\n")
	f.Add("token_ttl: -1h\napis: [{audience: a}]\nusers: [{username: u, scopes: {b: [x]}}]\n")
	f.Add("&a [*a]")
	f.Fuzz(func(t *testing.T, data string) {
		cfg, err := ParseConfig([]byte(data), "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted what Validate rejects: %v", err)
		}
	})
}
