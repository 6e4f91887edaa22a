package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/teststack"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

const tokAudience = "https://quickstarts/api"

// tokTenant starts the stand-in tenant (default config) on loopback with a short device polling interval and
// returns its server; the issuer is srv.URL + "/".
func tokTenant(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := teststack.Tenant(t, tenant.Options{DevicePollInterval: 500 * time.Millisecond})
	return srv
}

// tokAPI is the real API (pkg/api router with the pkg/auth validator) trusting issuer, on a loopback server.
func tokAPI(t *testing.T, issuer string) *httptest.Server {
	t.Helper()
	srv, _ := teststack.API(t, issuer, teststack.APIOptions{Auth: func(c *auth.Config) { c.CacheSize = 64 }})
	return srv
}

// tokRun runs the CLI with env as the whole environment, as a user would.
func tokRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb testhttp.SyncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = a.run(t.Context(), args)
	return code, out.String(), errb.String()
}

// tokEnv is the environment of a user pointed at the stand-in tenant with client id/secret, and a private cache.
func tokEnv(t *testing.T, issuer, api, id, secret string) map[string]string {
	t.Helper()
	return map[string]string{
		"ISSUER_URL": issuer, "AUTH0_AUDIENCE": tokAudience, "AUTH0_CLIENT_ID": id, "AUTH0_CLIENT_SECRET": secret,
		"API_URL": api, "XDG_CACHE_HOME": t.TempDir(),
	}
}
