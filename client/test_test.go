package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/teststack"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/conformance"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// suiteStack starts the stand-in tenant and the project's API in-process and returns the env a user would set.
func suiteStack(t *testing.T) map[string]string {
	t.Helper()
	ten, _ := teststack.Tenant(t, tenant.Options{})
	apiSrv, _ := suiteAPI(t, ten.URL+"/")
	return map[string]string{"ISSUER_URL": ten.URL + "/", "AUTH0_AUDIENCE": teststack.Audience, "API_URL": apiSrv.URL}
}

// suiteAPI is the project's API trusting issuer, with a short clock leeway so the cache case waits seconds.
func suiteAPI(t *testing.T, issuer string) (*httptest.Server, *auth.Validator) {
	t.Helper()
	return teststack.API(t, issuer, teststack.APIOptions{
		Auth:         func(c *auth.Config) { c.ClockSkew = 4 * time.Second },
		AuthOptions:  []auth.Option{auth.WithUnknownKIDRefetch(50*time.Millisecond, 1, time.Second)},
		SelfResource: true,
	})
}

func suiteRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = a.run(t.Context(), append([]string{"test"}, args...))
	return code, out.String(), errb.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestSuiteCLIAllPass(t *testing.T) {
	env := suiteStack(t)
	code, out, errOut := suiteRun(t, env)
	// DPoP runs in its default mode, allowed: the case for APIs that require it skips.
	want := fmt.Sprintf("%d passed, 0 failed, 1 skipped", len(conformance.Matrix())-1)
	if code != exitOK || lastLine(out) != want {
		t.Fatalf("exit %d, last line %q (want %q)\n%s\n%s", code, lastLine(out), want, out, errOut)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour escapes written to a non-terminal")
	}
}

func TestSuiteCLIFailureExits1(t *testing.T) {
	env := suiteStack(t)
	// Pointing --private at the public route makes an API whose private route is open to everyone.
	code, out, _ := suiteRun(t, env, "--private", "/api/public", "--run", `^quickstart/(no-header|public)$`)
	if code != exitFailed || lastLine(out) != "1 passed, 1 failed, 0 skipped" {
		t.Fatalf("exit %d, last line %q\n%s", code, lastLine(out), out)
	}
	if !strings.Contains(out, "why it matters: a private route served without any token is open to everyone") {
		t.Errorf("no explanation of the failure:\n%s", out)
	}
}

func TestSuiteCLICannotRunExits2(t *testing.T) {
	env := suiteStack(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	_ = ln.Close()
	without := func(k string) map[string]string {
		out := map[string]string{}
		for key, v := range env {
			if key != k {
				out[key] = v
			}
		}
		return out
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"no audience", without("AUTH0_AUDIENCE"), nil, "AUTH0_AUDIENCE"},
		{"no issuer", without("ISSUER_URL"), nil, "ISSUER_URL"},
		{"no API", env, []string{"--api", ""}, "set --api / API_URL"},
		{"tenant unreachable", env, []string{"--issuer", closed}, "tenant"},
		{"API unreachable", env, []string{"--api", strings.TrimSuffix(closed, "/")}, "cannot reach the API"},
		{"bad profile", env, []string{"--profile", "strict"}, "--profile"},
		{"bad format", env, []string{"--format", "xml"}, "--format"},
		{"bad regex", env, []string{"--run", "("}, "--run"},
		{"regex selects nothing", env, []string{"--run", "no-such-case"}, "selects no case"},
		{"unknown flag", env, []string{"--nope"}, "unknown flag"},
		{"bad --out", env, []string{"--run", "quickstart/public", "--out", filepath.Join(t.TempDir(), "no", "r.xml")}, "--out"},
		{"audience the API does not accept", env, []string{"--audience", "https://another/api"}, "likely fix: --audience"},
		{"scope the API does not require", env, []string{"--scope", "admin:all"}, "likely fix: the scoped route requires another scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := suiteRun(t, tt.env, tt.args...)
			if code != exitCannotGo || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want 2 mentioning %q", code, errOut, tt.msg)
			}
		})
	}
}

func TestSuiteCLIList(t *testing.T) {
	code, out, _ := suiteRun(t, nil, "--list", "--run", "^forged/alg-")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "CASE") || !strings.Contains(out, "forged/alg-nOnE") ||
		!strings.Contains(out, "no") || strings.Contains(out, "quickstart/") {
		t.Errorf("--list --run ^forged/alg- printed:\n%s", out)
	}
	code, out, _ = suiteRun(t, nil, "--list")
	if code != exitOK || strings.Count(out, "\n") != len(conformance.Matrix())+1 || !strings.Contains(out, "claims/expired") {
		t.Errorf("--list printed:\n%s", out)
	}
}

func TestSuiteCLIFormatsAndOut(t *testing.T) {
	env := suiteStack(t)
	run := []string{"--run", "^quickstart/"}

	code, out, _ := suiteRun(t, env, append(run, "--format", "json")...)
	var rep struct {
		Summary struct{ Passed, Failed, Skipped int }
		Cases   []struct {
			ID      string
			Verdict string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	if rep.Summary.Passed != len(rep.Cases) || rep.Summary.Passed == 0 || rep.Cases[0].ID != "quickstart/public" {
		t.Errorf("JSON report %+v", rep)
	}

	code, out, _ = suiteRun(t, env, append(run, "--format", "junit", "--profile", "auth0")...)
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || code != exitOK || suites.Tests != len(rep.Cases) || suites.Failures != 0 {
		t.Fatalf("exit %d, JUnit %v %+v:\n%s", code, err, suites, out)
	}

	path := filepath.Join(t.TempDir(), "report.xml")
	code, out, _ = suiteRun(t, env, append(run, "--format", "junit", "--out", path)...)
	data, err := os.ReadFile(path)
	if err != nil || code != exitOK {
		t.Fatalf("exit %d, %v", code, err)
	}
	if err := xml.Unmarshal(data, &suites); err != nil || suites.Tests != len(rep.Cases) {
		t.Errorf("--out file is not the JUnit report: %v", err)
	}
	if lastLine(out) != fmt.Sprintf("%d passed, 0 failed, 0 skipped", len(rep.Cases)) {
		t.Errorf("with --out the table still goes to stdout; got:\n%s", out)
	}
}

// TestSuiteCLIRealTenantSkips runs against an issuer without mint_endpoint: a real tenant. Its token endpoint is
// the stand-in's, so client credentials work, and every case needing the issuer's key is reported skipped.
func TestSuiteCLIRealTenantSkips(t *testing.T) {
	env := suiteStack(t)
	standIn := env["ISSUER_URL"]
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/.well-known/") {
			http.NotFound(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, standIn+".well-known/openid-configuration", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		delete(doc, "mint_endpoint")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(real.Close)

	args := []string{"--issuer", real.URL + "/", "--format", "json"}
	code, _, errOut := suiteRun(t, env, args...)
	if code != exitCannotGo || !strings.Contains(errOut, "AUTH0_CLIENT_ID") {
		t.Fatalf("without client credentials: exit %d, %q", code, errOut)
	}
	code, _, errOut = suiteRun(t, env, append(args, "--client-id", "quickstart-write", "--client-secret", "write-secret")...)
	if code != exitCannotGo || !strings.Contains(errOut, `does not grant "read:messages"`) {
		t.Fatalf("with a client lacking the scope: exit %d, %q", code, errOut)
	}
	args = append(args, "--client-id", "quickstart-read", "--client-secret", "read-secret")
	// Without a client lacking the scope, the cases that need its token say which flags give one.
	code, out, errOut := suiteRun(t, env, append(args, "--run", "^(quickstart/scoped-no-scope|cors/on-403|stateful/scope-leak)$")...)
	var noScope struct {
		Cases []struct{ ID, Verdict, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &noScope); err != nil || code != exitOK || len(noScope.Cases) != 3 {
		t.Fatalf("without --noscope-client-id: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	for _, c := range noScope.Cases {
		if c.Verdict != "skip" || c.Detail != "needs a token without the scope: --noscope-client-id and --noscope-client-secret" {
			t.Errorf("without --noscope-client-id, %s: %s %q", c.ID, c.Verdict, c.Detail)
		}
	}
	args = append(args, "--noscope-client-id", "quickstart-noscope", "--noscope-client-secret", "noscope-secret")
	code, out, errOut = suiteRun(t, env, args...)
	var rep struct {
		Summary struct{ Passed, Failed, Skipped int }
		Cases   []struct {
			ID, Verdict, Detail string
			NeedsKey            bool `json:"needs_key"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	needsKey := 0
	for _, c := range rep.Cases {
		if c.NeedsKey {
			needsKey++
			if c.Verdict != "skip" || c.Detail != "needs the stand-in tenant" {
				t.Errorf("%s: %s %q", c.ID, c.Verdict, c.Detail)
			}
		}
	}
	if needsKey == 0 || rep.Summary.Skipped != needsKey || rep.Summary.Failed != 0 ||
		rep.Summary.Passed != len(conformance.Matrix())-needsKey {
		t.Errorf("summary %+v with %d key cases", rep.Summary, needsKey)
	}
}

func TestSuiteCLIFailOnAndSeverities(t *testing.T) {
	env := suiteStack(t)
	// A scoped route that does not exist answers 404 to the no-scope token: refused, with the wrong status (low).
	args := []string{"--scoped", "/no-such-route", "--run", "^quickstart/scoped-no-scope$"}
	code, out, _ := suiteRun(t, env, args...)
	if code != exitFailed || !strings.Contains(out, "failures: 0 critical, 0 high, 0 medium, 1 low") {
		t.Fatalf("default --fail-on low: exit %d\n%s", code, out)
	}
	if code, out, _ = suiteRun(t, env, append(args, "--fail-on", "medium")...); code != exitOK ||
		lastLine(out) != "0 passed, 1 failed, 0 skipped" {
		t.Fatalf("--fail-on medium with a low failure: exit %d\n%s", code, out)
	}
	// An open private route is a critical failure: it fails even --fail-on critical.
	code, out, _ = suiteRun(t, env, "--private", "/api/public", "--run", "^quickstart/no-header$", "--fail-on", "critical")
	if code != exitFailed || !strings.Contains(out, "failures: 1 critical") {
		t.Fatalf("--fail-on critical with a critical failure: exit %d\n%s", code, out)
	}
	if code, _, errOut := suiteRun(t, env, "--fail-on", "severe"); code != exitCannotGo || !strings.Contains(errOut, "--fail-on") {
		t.Errorf("bad --fail-on: exit %d %q", code, errOut)
	}
}

func TestSuiteCLISkipRoute(t *testing.T) {
	env := suiteStack(t)
	code, out, errOut := suiteRun(t, env, "--skip-route", "public", "--run", "^quickstart/", "--format", "json")
	var rep struct {
		Cases []struct {
			ID, Verdict string
			Detail      *string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	for _, c := range rep.Cases {
		skipped := c.Verdict == "skip"
		if skipped != (c.ID == "quickstart/public") {
			t.Errorf("%s: %s", c.ID, c.Verdict)
		}
		if skipped && (c.Detail == nil || !strings.Contains(*c.Detail, "--skip-route")) {
			t.Errorf("%s skipped without saying why: %v", c.ID, c.Detail)
		}
	}
	for _, bad := range [][]string{{"--skip-route", "admin"}, {"--skip-route", "private", "--skip-route", "scoped"}} {
		if code, _, errOut := suiteRun(t, env, bad...); code != exitCannotGo || !strings.Contains(errOut, "--skip-route") {
			t.Errorf("%v: exit %d %q", bad, code, errOut)
		}
	}
}

func TestSuiteCLILeewayGiven(t *testing.T) {
	env := suiteStack(t)
	code, out, errOut := suiteRun(t, env, "--leeway", "4s", "--run", "^claims/expired", "--format", "json")
	var rep struct {
		Leeway string
		Cases  []struct{ ID, Verdict string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || len(rep.Cases) != 3 {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if rep.Leeway != "4s (given with --leeway)" {
		t.Errorf("leeway %q", rep.Leeway)
	}
	code, out, _ = suiteRun(t, env, "--run", "^claims/leeway-at-most-5m$")
	if code != exitOK || !strings.Contains(out, "s (measured, to the second)") {
		t.Errorf("measured leeway not reported: exit %d\n%s", code, out)
	}
}

func TestSuiteCLITrustsGivenCA(t *testing.T) {
	env := suiteStack(t)
	plain, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env["API_URL"], nil)
	if err != nil {
		t.Fatal(err)
	}
	target := plain.URL
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A TLS front for the API: the suite must reach it only when it trusts the certificate's CA.
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.RequestURI = target.Scheme, target.Host, ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})
	if err := os.WriteFile(caFile, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--api", proxy.URL, "--run", "^quickstart/(public|private-valid)$"}
	if code, _, errOut := suiteRun(t, env, args...); code != exitCannotGo || !strings.Contains(errOut, "cannot reach the API") {
		t.Fatalf("without --ca: exit %d %q", code, errOut)
	}
	if code, out, errOut := suiteRun(t, env, append(args, "--ca", caFile)...); code != exitOK {
		t.Fatalf("with --ca: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := suiteRun(t, env, append(args, "--ca", filepath.Join(t.TempDir(), "none.pem"))...); code != exitCannotGo ||
		!strings.Contains(errOut, "--ca") {
		t.Errorf("missing --ca file: exit %d %q", code, errOut)
	}
}
