package tokens

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

// fakeTenant is a small token endpoint with discovery, device flow, mint and rotate, used until the stand-in tenant
// (pkg/tenant) is available; it signs real RS256 tokens.
type fakeTenant struct {
	srv      *httptest.Server
	key      testissuer.Key
	clients  map[string]string // id -> secret ("" for public)
	scopes   map[string]string // id -> granted scope
	mu       sync.Mutex
	approved map[string]string // device code -> "approved" | "denied" | ""
	devAud   map[string]string // device code -> audience asked for at /oauth/device/code
	lastForm map[string][]string
	tokens   atomic.Int64
	rotates  atomic.Int64
	minted   map[string]any
	noOIDC   bool
}

var (
	sharedKeyOnce sync.Once
	sharedKey     testissuer.Key
)

func newFakeTenant(t *testing.T) *fakeTenant {
	t.Helper()
	sharedKeyOnce.Do(func() { sharedKey = testissuer.NewKey(t, "k1") })
	ft := &fakeTenant{
		key:      sharedKey,
		clients:  map[string]string{"quickstart-read": "read-secret", "cli": ""},
		scopes:   map[string]string{"quickstart-read": "read:messages", "cli": "read:messages"},
		approved: map[string]string{},
		devAud:   map[string]string{},
	}
	mux := http.NewServeMux()
	disc := func(w http.ResponseWriter, r *http.Request) {
		if ft.noOIDC && strings.Contains(r.URL.Path, "openid") {
			http.NotFound(w, r)
			return
		}
		base := "http://" + r.Host
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                        "http://localhost:4000/",
			"jwks_uri":                      base + "/.well-known/jwks.json",
			"token_endpoint":                base + "/oauth/token",
			"device_authorization_endpoint": base + "/oauth/device/code",
			"mint_endpoint":                 base + "/dev/mint",
		})
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", disc)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", disc)
	mux.HandleFunc("POST /oauth/token", ft.token)
	mux.HandleFunc("POST /oauth/device/code", ft.deviceCode)
	mux.HandleFunc("POST /dev/mint", ft.mint)
	mux.HandleFunc("POST /dev/rotate", func(w http.ResponseWriter, _ *http.Request) {
		ft.rotates.Add(1)
		writeJSON(w, http.StatusOK, map[string]any{"kid": "k2"})
	})
	ft.srv = httptest.NewServer(mux)
	t.Cleanup(ft.srv.Close)
	return ft
}

func (ft *fakeTenant) url() string { return ft.srv.URL + "/" }

func (ft *fakeTenant) setDevice(code, state string) {
	ft.mu.Lock()
	ft.approved[code] = state
	ft.mu.Unlock()
}

func (ft *fakeTenant) form() map[string][]string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.lastForm
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (ft *fakeTenant) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "bad form")
		return
	}
	ft.mu.Lock()
	ft.lastForm = r.PostForm
	ft.mu.Unlock()
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	want, known := ft.clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if want == "" {
			oauthError(w, 400, "unauthorized_client", "public client")
			return
		}
	case "urn:ietf:params:oauth:grant-type:device_code":
		ft.mu.Lock()
		state, ok := ft.approved[r.PostForm.Get("device_code")]
		ft.mu.Unlock()
		switch {
		case !ok:
			oauthError(w, 400, "invalid_grant", "unknown device code")
			return
		case state == "denied":
			oauthError(w, 403, "access_denied", "User refused")
			return
		case state != "approved":
			oauthError(w, 400, "authorization_pending", "waiting")
			return
		}
	default:
		oauthError(w, 400, "unsupported_grant_type", "no")
		return
	}
	aud := r.PostForm.Get("audience")
	if r.PostForm.Get("grant_type") != "client_credentials" {
		ft.mu.Lock()
		aud = ft.devAud[r.PostForm.Get("device_code")]
		ft.mu.Unlock()
	}
	if aud != testissuer.Audience {
		oauthError(w, http.StatusForbidden, "access_denied", "Client has not been granted scopes for "+aud)
		return
	}
	n := ft.tokens.Add(1)
	now := time.Now()
	claims := map[string]any{
		"iss": "http://localhost:4000/", "sub": id + "@clients", "aud": testissuer.Audience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": ft.scopes[id], "n": n,
	}
	tok := testissuer.Sign(testT{}, map[string]any{"alg": "RS256", "typ": "JWT", "kid": ft.key.ID}, claims, ft.key.Private)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": ft.scopes[id],
	})
}

func (ft *fakeTenant) deviceCode(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	ft.mu.Lock()
	ft.lastForm = r.PostForm
	ft.mu.Unlock()
	code := "dev-" + r.PostForm.Get("client_id")
	ft.setDevice(code, "")
	ft.mu.Lock()
	ft.devAud[code] = r.PostForm.Get("audience")
	ft.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": code, "user_code": "ABCD-EFGH", "verification_uri": ft.srv.URL + "/activate",
		"verification_uri_complete": ft.srv.URL + "/activate?user_code=ABCD-EFGH", "expires_in": 300, "interval": 1,
	})
}

func (ft *fakeTenant) mint(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Claims map[string]any `json:"claims"`
		Header map[string]any `json:"header"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	ft.mu.Lock()
	ft.minted = in.Claims
	ft.mu.Unlock()
	claims := map[string]any{"iss": "http://localhost:4000/", "sub": "x@clients", "aud": testissuer.Audience}
	for k, v := range in.Claims {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": ft.key.ID}
	for k, v := range in.Header {
		header[k] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": testissuer.Sign(testT{}, header, claims, ft.key.Private)})
}

// testT lets handlers (which have no *testing.T of their own) call testissuer helpers; failures panic, which
// httptest turns into a failed request the test then sees.
type testT struct{ testing.TB }

func (testT) Helper()                   {}
func (testT) Fatalf(f string, a ...any) { panic(f) }
