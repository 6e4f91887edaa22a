package webapp_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/pkg/webapp"
)

func defaultConfig() webapp.Config {
	return webapp.Config{
		APIURL:    webapp.DefaultAPIURL,
		IssuerURL: webapp.DefaultIssuerURL,
		ClientID:  webapp.DefaultClientID,
		Audience:  webapp.DefaultAudience,
	}
}

func serve(t *testing.T, cfg webapp.Config, opts ...webapp.Option) *httptest.Server {
	t.Helper()
	h, err := webapp.New(cfg, opts...)
	if err != nil {
		t.Fatalf("webapp.New: %v", err)
	}
	srv := httptest.NewServer(webapp.NewServer(h).Handler)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	res, body := testhttp.Send(t, method, url, nil, "")
	return res, string(body)
}

func TestRoutes(t *testing.T) {
	srv := serve(t, defaultConfig())
	tests := []struct {
		method, path string
		status       int
		contentType  string
		cache        string
		bodyHas      string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "no-store", `id="call-private-no-token"`},
		{"GET", "/callback?code=abc&state=xyz", 200, "text/html; charset=utf-8", "no-store", `<script src="/app.js"`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", "no-store", ""},
		{"GET", "/app.js", 200, "text/javascript; charset=utf-8", "no-cache", "code_challenge_method"},
		{"GET", "/app.css", 200, "text/css; charset=utf-8", "no-cache", "#status"},
		{"GET", "/config.json", 200, "application/json", "no-store", `"clientId":"spa"`},
		{"GET", "/index.html", 404, "text/plain; charset=utf-8", "no-store", "404"},
		{"GET", "/static/app.js", 404, "text/plain; charset=utf-8", "no-store", "404"},
		{"GET", "/favicon.ico", 404, "text/plain; charset=utf-8", "no-store", "404"},
		{"GET", "/callback/", 404, "text/plain; charset=utf-8", "no-store", "404"},
		{"GET", "/../webapp.go", 404, "text/plain; charset=utf-8", "no-store", "404"},
		{"POST", "/", 405, "text/plain; charset=utf-8", "no-store", "405"},
		{"DELETE", "/config.json", 405, "text/plain; charset=utf-8", "no-store", "405"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res, body := get(t, tt.method, srv.URL+tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if !strings.Contains(body, tt.bodyHas) {
				t.Errorf("body does not contain %q:\n%.300s", tt.bodyHas, body)
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD answered a body of %d bytes", len(body))
			}
			if tt.status == 405 && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", res.Header.Get("Allow"))
			}
			// Every answer, errors too, carries the security headers.
			for name, want := range map[string]string{
				"X-Content-Type-Options":       "nosniff",
				"X-Frame-Options":              "DENY",
				"Referrer-Policy":              "no-referrer",
				"Cross-Origin-Opener-Policy":   "same-origin",
				"Cross-Origin-Resource-Policy": "same-origin",
			} {
				if got := res.Header.Get(name); got != want {
					t.Errorf("%s %q, want %q", name, got, want)
				}
			}
			if res.Header.Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}

func TestCSP(t *testing.T) {
	tests := []struct {
		name       string
		api        string
		issuer     string
		opts       []webapp.Option
		connectSrc string
	}{
		{"defaults", webapp.DefaultAPIURL, webapp.DefaultIssuerURL, nil,
			"connect-src 'self' http://localhost:3010 http://localhost:4000"},
		{"paths are cut to origins", "https://api.example.com/v1/", "https://tenant.eu.auth0.com/", nil,
			"connect-src 'self' https://api.example.com https://tenant.eu.auth0.com"},
		{"one origin is listed once", "http://127.0.0.1:8080/api", "http://127.0.0.1:8080/issuer/", nil,
			"connect-src 'self' http://127.0.0.1:8080"},
		{"extra origins", webapp.DefaultAPIURL, webapp.DefaultIssuerURL,
			[]webapp.Option{webapp.WithConnectSrc("https://login.example.com")},
			"connect-src 'self' http://localhost:3010 http://localhost:4000 https://login.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.APIURL, cfg.IssuerURL = tt.api, tt.issuer
			srv := serve(t, cfg, tt.opts...)
			res, _ := get(t, "GET", srv.URL+"/")
			directives := map[string]string{}
			for d := range strings.SplitSeq(res.Header.Get("Content-Security-Policy"), ";") {
				d = strings.TrimSpace(d)
				name, _, _ := strings.Cut(d, " ")
				directives[name] = d
			}
			want := map[string]string{
				"default-src":     "default-src 'none'",
				"script-src":      "script-src 'self'",
				"style-src":       "style-src 'self'",
				"connect-src":     tt.connectSrc,
				"frame-ancestors": "frame-ancestors 'none'",
				"base-uri":        "base-uri 'none'",
				"form-action":     "form-action 'none'",
			}
			for name, w := range want {
				if directives[name] != w {
					t.Errorf("CSP %s: got %q, want %q", name, directives[name], w)
				}
			}
		})
	}
}

// The page runs no inline script or style, so the strict CSP above cannot break it.
func TestIndexHasNoInlineCode(t *testing.T) {
	srv := serve(t, defaultConfig())
	_, body := get(t, "GET", srv.URL+"/")
	for _, bad := range []string{"<script>", "style=", "onclick", "onload", `href="javascript:`, "<style"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	for _, id := range []string{"login", "logout", "user", "call-public", "call-private", "call-scoped",
		"call-private-no-token", "status", "body", "www-authenticate"} {
		if strings.Count(body, `id="`+id+`"`) != 1 {
			t.Errorf("index.html has no single element id %q", id)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name string
		cfg  webapp.Config
		want webapp.Config
	}{
		{"defaults", defaultConfig(), webapp.Config{
			APIURL: "http://localhost:3010", IssuerURL: "http://localhost:4000/", ClientID: "spa",
			Audience: "https://quickstarts/api", Scope: webapp.DefaultScope,
		}},
		{"issuer gets its slash, API loses it", webapp.Config{
			APIURL: "http://localhost:3010/", IssuerURL: "https://tenant.eu.auth0.com", ClientID: "abc",
			Audience: "urn:my-api", Scope: "openid read:messages",
		}, webapp.Config{
			APIURL: "http://localhost:3010", IssuerURL: "https://tenant.eu.auth0.com/", ClientID: "abc",
			Audience: "urn:my-api", Scope: "openid read:messages",
		}},
		// & and the path characters a URL may hold come back unchanged once decoded.
		{"ampersand survives", webapp.Config{
			APIURL: "http://localhost:3010/a&b", IssuerURL: "http://localhost:4000/", ClientID: "a&b",
			Audience: "https://x/api?&", Scope: "openid",
		}, webapp.Config{
			APIURL: "http://localhost:3010/a&b", IssuerURL: "http://localhost:4000/", ClientID: "a&b",
			Audience: "https://x/api?&", Scope: "openid",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.cfg)
			_, body := get(t, "GET", srv.URL+"/config.json")
			if strings.ContainsAny(body, "<>&") {
				t.Errorf("config.json holds a raw <, > or &: %s", body)
			}
			var got webapp.Config
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("config.json: %v\n%s", err, body)
			}
			if got != tt.want {
				t.Errorf("config.json = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*webapp.Config)
		settings []webapp.Setting
	}{
		{"empty API URL", func(c *webapp.Config) { c.APIURL = "" }, []webapp.Setting{webapp.SettingAPIURL}},
		{"API URL without scheme", func(c *webapp.Config) { c.APIURL = "localhost:3010" }, []webapp.Setting{webapp.SettingAPIURL}},
		{"javascript issuer", func(c *webapp.Config) { c.IssuerURL = "javascript:alert(1)" }, []webapp.Setting{webapp.SettingIssuerURL}},
		{"CSP injection in host", func(c *webapp.Config) { c.APIURL = "http://a;script-src*" }, []webapp.Setting{webapp.SettingAPIURL}},
		{"space in host", func(c *webapp.Config) { c.IssuerURL = "http://a b/" }, []webapp.Setting{webapp.SettingIssuerURL}},
		{"query in issuer", func(c *webapp.Config) { c.IssuerURL = "http://localhost:4000/?x=1" }, []webapp.Setting{webapp.SettingIssuerURL}},
		{"user info", func(c *webapp.Config) { c.APIURL = "http://u:p@localhost:3010" }, []webapp.Setting{webapp.SettingAPIURL}},
		{"quote in client id", func(c *webapp.Config) { c.ClientID = `spa"` }, []webapp.Setting{webapp.SettingClientID}},
		{"angle bracket in audience", func(c *webapp.Config) { c.Audience = "<script>" }, []webapp.Setting{webapp.SettingAudience}},
		{"newline in scope", func(c *webapp.Config) { c.Scope = "openid\nx" }, []webapp.Setting{webapp.SettingScope}},
		{"scope without openid", func(c *webapp.Config) { c.Scope = "read:messages" }, []webapp.Setting{webapp.SettingScope}},
		{"empty client and audience", func(c *webapp.Config) { c.ClientID, c.Audience = "", "" },
			[]webapp.Setting{webapp.SettingClientID, webapp.SettingAudience}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			tt.edit(&cfg)
			_, err := webapp.New(cfg)
			if !errors.Is(err, webapp.ErrBadConfig) {
				t.Fatalf("webapp.New = %v, want ErrBadConfig", err)
			}
			var got []webapp.Setting
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				ce, ok := errors.AsType[*webapp.ConfigError](e)
				if !ok {
					t.Fatalf("%v is not a *ConfigError", e)
				}
				got = append(got, ce.Setting)
			}
			if strings.Join(toStrings(got), ",") != strings.Join(toStrings(tt.settings), ",") {
				t.Errorf("bad settings %v, want %v (%v)", got, tt.settings, err)
			}
		})
	}
	if _, err := webapp.New(defaultConfig(), webapp.WithConnectSrc("https://x.example/path")); !errors.Is(err, webapp.ErrBadConfig) {
		t.Errorf("WithConnectSrc with a path: err %v, want ErrBadConfig", err)
	}
}

func toStrings(s []webapp.Setting) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

func TestServerTimeouts(t *testing.T) {
	s := webapp.NewServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("unbounded server: %+v", s)
	}
}
