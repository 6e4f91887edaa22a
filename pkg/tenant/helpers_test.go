package tenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

const testAudience = "https://quickstarts/api"

// cliHints are the hints client tenant gives (client/tenant.go), so tests of HTTP answers see what its users see.
var cliHints = Hints{
	AllowedHosts: "start the tenant with --allowed-hosts to add it",
	ECKey:        "start the tenant with --ec-key",
}

// flagName is a command-line flag or an environment variable of client/: words a library must leave to it.
var flagName = regexp.MustCompile(`--[a-z]|AUTH0_|ISSUER_URL`)

// assertNoFlagNames fails the test when text, an error or answer of this package, names a flag or variable.
func assertNoFlagNames(t *testing.T, text string) {
	t.Helper()
	if m := flagName.FindString(text); m != "" {
		t.Errorf("%q names %q: pkg/tenant leaves flags and variables to client/", text, m)
	}
}

// fakeClock is a clock tests move by hand, so expiry and polling intervals need no sleeps.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// fixture is a tenant served over real loopback HTTP.
type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	tenant *Tenant
	issuer string
}

// start serves a tenant as the agreed API says other packages do: httptest server first, issuer from its URL.
func start(t *testing.T, cfg *Config, opts Options) *fixture {
	t.Helper()
	if cfg == nil {
		cfg = DefaultConfig()
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	opts.Issuer = srv.URL + "/"
	ten, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = ten.Handler()
	return &fixture{t: t, srv: srv, tenant: ten, issuer: srv.URL + "/"}
}

// do sends a request and returns the response with its body read.
func (f *fixture) do(method, path, contentType, body string, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	return f.doHost(method, path, "", contentType, body, header)
}

func (f *fixture) postForm(path string, v url.Values) (*http.Response, map[string]any) {
	f.t.Helper()
	resp, b := f.do(http.MethodPost, path, "application/x-www-form-urlencoded", v.Encode(), nil)
	return resp, decodeObject(f.t, b)
}

func (f *fixture) postJSON(path string, v any) (*http.Response, map[string]any) {
	f.t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, b := f.do(http.MethodPost, path, "application/json", string(raw), nil)
	return resp, decodeObject(f.t, b)
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, b)
	}
	return m
}

// clientToken gets a client_credentials token and fails the test unless it is issued.
func (f *fixture) clientToken(id, secret string) string {
	f.t.Helper()
	resp, body := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
		"client_secret": {secret}, "audience": {testAudience}})
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("token for %s: %d %v", id, resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

// mint posts to /dev/mint and returns the token.
func (f *fixture) mint(req MintRequest) string {
	f.t.Helper()
	resp, body := f.postJSON(PathMint, req)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("mint: %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

// verify checks token independently of the tenant's code: golang-jwt v5 with the JWKS served right now (keyfunc),
// RS256 only, exact iss and aud, exp required.
func (f *fixture) verify(token string) (jwt.MapClaims, error) {
	f.t.Helper()
	return f.verifyWithAudience(token, testAudience)
}

func (f *fixture) verifyWithAudience(token, audience string) (jwt.MapClaims, error) {
	f.t.Helper()
	resp, raw := f.do(http.MethodGet, PathJWKS, "", "", nil)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("JWKS: %d", resp.StatusCode)
	}
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		f.t.Fatalf("JWKS does not parse: %v", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(f.issuer), jwt.WithAudience(audience), jwt.WithExpirationRequired())
	return claims, err
}

// mustVerify is verify that fails the test on an invalid token.
func (f *fixture) mustVerify(token string) jwt.MapClaims {
	f.t.Helper()
	claims, err := f.verify(token)
	if err != nil {
		f.t.Fatalf("token does not verify against the served JWKS: %v", err)
	}
	return claims
}

// header decodes a token's JOSE header without verifying it.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("parse header: %v", err)
	}
	return tok.Header
}

// servedJWKS fetches the JWKS and parses every key with jwkset, which also checks that x5c's certificate holds the
// key and that x5t is its thumbprint: an independent reading of what the tenant publishes.
func (f *fixture) servedJWKS() (map[string]jwkset.JWK, []map[string]any) {
	f.t.Helper()
	resp, raw := f.do(http.MethodGet, PathJWKS, "", "", nil)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("JWKS: %d", resp.StatusCode)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		f.t.Fatalf("JWKS is not JSON: %v", err)
	}
	byKid := make(map[string]jwkset.JWK, len(set.Keys))
	members := make([]map[string]any, 0, len(set.Keys))
	for _, k := range set.Keys {
		j, err := jwkset.NewJWKFromRawJSON(k, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			f.t.Fatalf("JWK %s does not validate: %v", k, err)
		}
		byKid[j.Marshal().KID] = j
		var m map[string]any
		if err := json.Unmarshal(k, &m); err != nil {
			f.t.Fatal(err)
		}
		members = append(members, m)
	}
	return byKid, members
}

// verifyAlg checks token with golang-jwt v5 alone: alg is the only accepted method, the key is the JWKS key its kid
// names, and iss, aud and exp are checked as verify does.
func (f *fixture) verifyAlg(token, alg string) (jwt.MapClaims, error) {
	f.t.Helper()
	keys, _ := f.servedJWKS()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("kid %q is not in the JWKS", kid)
		}
		return k.Key(), nil
	}, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(f.issuer), jwt.WithAudience(testAudience), jwt.WithExpirationRequired())
	return claims, err
}

// rotate posts body to /dev/rotate and returns the decoded answer, failing the test unless it is 200.
func (f *fixture) rotate(body string) map[string]any {
	f.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	resp, raw := f.do(http.MethodPost, PathRotate, ct, body, nil)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("rotate %s: %d %s", body, resp.StatusCode, raw)
	}
	return decodeObject(f.t, raw)
}

// kidsOf lists the kid of every JWKS entry, in order.
func kidsOf(members []map[string]any) []string {
	kids := make([]string, 0, len(members))
	for _, m := range members {
		kid, _ := m["kid"].(string)
		kids = append(kids, kid)
	}
	return kids
}
