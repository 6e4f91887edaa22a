package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/internal/testhttp"
)

func TestCORS(t *testing.T) {
	f := newFixture(t, fixtureConfig{origins: []string{"http://localhost:3000", "https://app.example"}})
	good := f.iss.Token(t, nil)
	noScope := f.iss.Token(t, func(c map[string]any) { c["scope"] = "" })
	const origin = "http://localhost:3000"

	t.Run("preflight from allowed origin needs no token", func(t *testing.T) {
		for _, p := range []string{"/api/private", "/api/private-scoped", "/secured/ping", "/api/public"} {
			r := f.do(t, http.MethodOptions, p, http.Header{
				"Origin":                         {origin},
				"Access-Control-Request-Method":  {"GET"},
				"Access-Control-Request-Headers": {"authorization"},
			})
			if r.status != http.StatusNoContent {
				t.Fatalf("%s preflight: %d %s", p, r.status, r.body)
			}
			if r.header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("%s Allow-Origin %q", p, r.header.Get("Access-Control-Allow-Origin"))
			}
			mustContainAll(t, "Allow-Headers", r.header.Get("Access-Control-Allow-Headers"), "Authorization")
			mustContainAll(t, "Allow-Methods", r.header.Get("Access-Control-Allow-Methods"), "GET")
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("preflight got a challenge")
			}
		}
	})
	t.Run("200 401 403 carry CORS headers", func(t *testing.T) {
		for _, tt := range []struct {
			path   string
			token  string
			status int
		}{
			{"/api/public", "", 200},
			{"/api/private", good, 200},
			{"/api/private", "", 401},
			{"/api/private", "abc", 401},
			{"/api/private-scoped", noScope, 403},
		} {
			h := http.Header{"Origin": {"https://app.example"}}
			if tt.token != "" {
				h.Set("Authorization", "Bearer "+tt.token)
			}
			r := f.do(t, http.MethodGet, tt.path, h)
			if r.status != tt.status {
				t.Fatalf("%s: %d, want %d", tt.path, r.status, tt.status)
			}
			if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
				t.Errorf("%s %d: Allow-Origin %q", tt.path, r.status, r.header.Get("Access-Control-Allow-Origin"))
			}
			mustContainAll(t, "Expose-Headers", r.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate")
			mustContainAll(t, "Vary", strings.Join(r.header.Values("Vary"), ","), "Origin")
		}
	})
	t.Run("other origins get no CORS headers", func(t *testing.T) {
		r := f.do(t, http.MethodGet, "/api/public", http.Header{"Origin": {"https://evil.example"}})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("disallowed origin: %d Allow-Origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
		r = f.do(t, http.MethodOptions, "/api/private", http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"GET"}})
		if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" || r.json(t)["error"] != "origin_not_allowed" {
			t.Errorf("disallowed preflight: %d %s", r.status, r.body)
		}
		if r := f.do(t, http.MethodGet, "/api/private", http.Header{"Origin": {"https://evil.example"}}); r.status != 401 {
			t.Errorf("disallowed origin still authenticates: %d", r.status)
		}
	})
	t.Run("wildcard", func(t *testing.T) {
		srv := newServer(t, NewRouter(Options{AllowedOrigins: []string{"*"}}))
		r := get(t, srv, "/api/public", http.Header{"Origin": {"https://anything.example"}})
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("wildcard Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("invalid origins do not panic", func(t *testing.T) {
		srv := newServer(t, NewRouter(Options{AllowedOrigins: []string{"localhost:3000", "ftp://x"}}))
		if r := get(t, srv, "/api/public", http.Header{"Origin": {"localhost:3000"}}); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("invalid origin config: %d %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("default origin", func(t *testing.T) {
		srv := newServer(t, NewRouter(Options{}))
		if r := get(t, srv, "/api/public", http.Header{"Origin": {DefaultAllowedOrigin}}); r.header.Get("Access-Control-Allow-Origin") != DefaultAllowedOrigin {
			t.Errorf("default origin not allowed: %q", r.header.Get("Access-Control-Allow-Origin"))
		}
	})
}

func TestRequestID(t *testing.T) {
	srv := newServer(t, NewRouter(Options{}))
	tests := []struct {
		in   string
		echo bool
	}{
		{"abc-123_x.y:z", true},
		{"", false},
		{"has space", false},
		{"has\ttab", false},
		{"<script>", false},
		{strings.Repeat("a", 129), false},
		{strings.Repeat("a", 128), true},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		h := http.Header{}
		if tt.in != "" {
			h.Set(HeaderRequestID, tt.in)
		}
		got := get(t, srv, "/api/public", h).header.Get(HeaderRequestID)
		if tt.echo && got != tt.in {
			t.Errorf("request id %q not echoed: %q", tt.in, got)
		}
		if !tt.echo && (got == tt.in || !saneRequestID(got) || seen[got]) {
			t.Errorf("request id %q: got %q, want a fresh sane id", tt.in, got)
		}
		seen[got] = true
	}
}

func TestAccessLog(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	tok := f.iss.Token(t, func(c map[string]any) { c["sub"] = "auth0|alice" })
	f.do(t, http.MethodGet, "/api/private?access_token=nope", http.Header{"Authorization": {"Bearer " + tok}, HeaderRequestID: {"req-1"}})
	f.do(t, http.MethodGet, "/api/private-scoped", http.Header{"Authorization": {"Bearer " + tok}, HeaderRequestID: {"req-2"}})
	f.do(t, http.MethodGet, "/api/private", http.Header{"Authorization": {"Bearer abc.def.ghi"}, HeaderRequestID: {"req-3"}})

	out := f.logs.String()
	for _, secret := range []string{tok, "abc.def.ghi", "nope", "Authorization", "Bearer"} {
		if strings.Contains(out, secret) {
			t.Errorf("access log contains %q", secret)
		}
	}
	byID := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "request" {
			byID[m["request_id"].(string)] = m
		}
	}
	want := map[string]map[string]any{
		"req-1": {"status": 400.0, "route": "/api/private", "method": "GET", "path": "/api/private", "reason": "multiple_tokens"},
		"req-2": {"status": 200.0, "route": "/api/private-scoped", "sub": "auth0|alice", "kid": "key-1"},
		"req-3": {"status": 401.0, "reason": "malformed"},
	}
	for id, fields := range want {
		got, ok := byID[id]
		if !ok {
			t.Errorf("no access log line for %s:\n%s", id, out)
			continue
		}
		for k, v := range fields {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", id, k, got[k], v)
			}
		}
		if _, ok := got["duration_ms"].(float64); !ok {
			t.Errorf("%s: no duration_ms", id)
		}
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.do(t, http.MethodGet, "/api/public", nil)
	f.do(t, http.MethodGet, "/api/public", nil)
	f.do(t, http.MethodGet, "/api/private", nil)
	f.do(t, http.MethodGet, "/does/not/exist", nil)
	f.do(t, "BREW", "/api/public", nil)
	r := f.do(t, http.MethodGet, "/metrics", nil)
	if r.status != 200 {
		t.Fatalf("metrics: %d", r.status)
	}
	mustContainAll(t, "metrics", string(r.body),
		`tokencheck_http_requests_total{method="GET",route="/api/public",status="200"} 2`,
		`tokencheck_http_requests_total{method="GET",route="/api/private",status="401"} 1`,
		`tokencheck_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`tokencheck_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`tokencheck_http_request_duration_seconds_bucket{method="GET",route="/api/public",le="+Inf"} 2`,
	)
	// Two routers on one registry share the collectors instead of failing.
	_ = NewRouter(Options{Registry: f.reg})
}

func TestRecovery(t *testing.T) {
	logs := &testhttp.SyncBuffer{}
	r := NewRouter(Options{Logger: newJSONLogger(logs)})
	r.GET("/boom", func(*gin.Context) { panic("secret detail") })
	srv := newServer(t, r)
	res := get(t, srv, "/boom", http.Header{"Authorization": {"Bearer s3cr3t"}})
	if res.status != 500 || res.json(t)["error"] != "server_error" || strings.Contains(string(res.body), "secret detail") {
		t.Errorf("panic answer: %d %s", res.status, res.body)
	}
	if strings.Contains(logs.String(), "s3cr3t") || !strings.Contains(logs.String(), "panic serving request") ||
		!strings.Contains(logs.String(), `"route":"/boom","path":"/boom","status":500`) {
		t.Errorf("panic log: %s", logs.String())
	}
	if res := get(t, srv, "/api/public", nil); res.status != 200 {
		t.Errorf("server unusable after a panic: %d", res.status)
	}
}

func TestGarbageHeadersNever5xx(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	headers := []http.Header{
		{"Authorization": {"Bearer " + strings.Repeat("A", 10000)}},
		{"Authorization": {"Bearer ....."}},
		{"Authorization": {"Bearer e30.e30.e30"}},
		{"Authorization": {"Bearer eyJhbGciOiJSUzI1NiJ9.!!!.@@@"}},
		{"Authorization": {"bearer " + f.iss.Token(t, nil)}},
		{"Authorization": {"Bearer x", "Bearer y"}},
		{"Origin": {"null"}},
		{"Origin": {"http://localhost:3000"}, "Access-Control-Request-Method": {"BREW"}},
		{"Content-Type": {"application/x-www-form-urlencoded"}},
	}
	for _, h := range headers {
		for _, p := range []string{"/api/private", "/api/private-scoped", "/api/public"} {
			if r := f.do(t, http.MethodGet, p, h); r.status >= 500 {
				t.Errorf("%s with %q: %d %s", p, h, r.status, r.body)
			}
		}
	}
	// Bytes Go's client refuses to send, written on the wire directly.
	for _, line := range []string{"Authorization: \x7f\x01Bearer", "Authorization: Bearer \xff\xfe", "X-Request-Id: \xff\xfe", "Origin: \x01"} {
		for _, p := range []string{"/api/private", "/api/public"} {
			if status := rawGet(t, f.srv, p, line); status >= 500 {
				t.Errorf("%s with %q: %d", p, line, status)
			}
		}
	}
}
