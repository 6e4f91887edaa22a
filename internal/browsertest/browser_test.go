package browsertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tokencheck/tokencheck/internal/teststack"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/tenant"
	"github.com/tokencheck/tokencheck/pkg/webapp"
)

// stepTimeout bounds each wait for the page: a login round trip or an API call on loopback takes well under it.
const stepTimeout = 20 * time.Second

// browserNames are the executables tried on PATH, Debian's package first.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"}

// findBrowser returns the Chromium binary to drive, or "" when there is none.
func findBrowser() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startStack runs the tenant, the API and the web app in-process on loopback ports and returns the app's URL.
// The tenant's spa client registers the app's real origin, and the API allows it for CORS.
func startStack(t *testing.T) string {
	t.Helper()
	// The app's address comes first: the tenant and the API are configured with its origin.
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	cfg := tenant.DefaultConfig()
	registered := false
	for i := range cfg.Clients {
		if c := &cfg.Clients[i]; c.ID == webapp.DefaultClientID {
			c.RedirectURIs = []string{appURL + webapp.PathCallback}
			c.WebOrigins = []string{appURL}
			c.LogoutURLs = []string{appURL + webapp.PathIndex}
			registered = true
		}
	}
	if !registered {
		t.Fatalf("the tenant's default configuration has no %s client", webapp.DefaultClientID)
	}
	tenantSrv, _ := teststack.TenantWithConfig(t, cfg, tenant.Options{})
	issuer := tenantSrv.URL + "/"
	apiSrv, _ := teststack.API(t, issuer, teststack.APIOptions{Router: api.Options{AllowedOrigins: []string{appURL}}})
	h, err := webapp.New(webapp.Config{
		APIURL:    apiSrv.URL,
		IssuerURL: issuer,
		ClientID:  webapp.DefaultClientID,
		Audience:  teststack.Audience,
	})
	if err != nil {
		t.Fatalf("webapp.New: %v", err)
	}
	srv := webapp.NewServer(h)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return appURL
}

// tab is one browser tab on the app.
type tab struct {
	t      *testing.T
	ctx    context.Context
	appURL string
}

func newTab(t *testing.T, path, appURL string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.WindowSize(1000, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root (CI containers)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		// The page's console and uncaught errors, for diagnosing a failure; the page never logs tokens.
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			t.Logf("console.%s: %s", ev.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			t.Logf("page exception at %s:%d: %s", d.URL, d.LineNumber+1, desc)
		}
	}))
	t.Cleanup(cancel)
	// Start the browser and the tab on this long-lived context: the first run's context is their lifetime, and
	// every step below runs on a child with its own timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &tab{t: t, ctx: ctx, appURL: appURL}
}

func (p *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v%s", what, err, p.diagnose())
	}
}

func eval[T any](p *tab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// waitJS waits until expr is true in the page; errors while a navigation replaces the page are retried.
func (p *tab) waitJS(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ok, err := eval[bool](p, expr)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %s still not true after %s (last error: %v)%s", what, expr, stepTimeout, err, p.diagnose())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// diagnose describes where the page is, for failure messages.
func (p *tab) diagnose() string {
	loc, _ := eval[string](p, `location.href`)
	msg, _ := eval[string](p, `(document.getElementById('message') || {}).textContent || ''`)
	text, _ := eval[string](p, `document.body ? document.body.innerText.slice(0, 500) : ''`)
	return fmt.Sprintf("\n  page: %s\n  #message: %q\n  text: %q", loc, msg, text)
}

func (p *tab) text(id string) string {
	p.t.Helper()
	s, err := eval[string](p, `document.getElementById(`+strconv.Quote(id)+`).textContent`)
	if err != nil {
		p.t.Fatalf("#%s: %v%s", id, err, p.diagnose())
	}
	return s
}

// waitApp waits for the app to have started on its own page (after any callback is handled).
func (p *tab) waitApp(what string) {
	p.t.Helper()
	p.waitJS(what, `location.origin === `+strconv.Quote(p.appURL)+` && location.pathname === '/' && `+
		`document.body.dataset.ready === 'true'`)
}

// login logs user in through the tenant's login page and returns the name the app shows.
func (p *tab) login(user, password string) string {
	p.t.Helper()
	p.waitApp("app before login")
	p.do("click #login", chromedp.WaitEnabled(chromedp.ID("login")), chromedp.Click(chromedp.ID("login")))
	userField, passField := chromedp.CSS(`input[name="username"]`), chromedp.CSS(`input[name="password"]`)
	p.do("the tenant's login form",
		chromedp.WaitVisible(userField),
		chromedp.SendKeys(userField, user),
		chromedp.SendKeys(passField, password),
		chromedp.Submit(passField),
	)
	p.waitApp("back on the app after logging in as " + user)
	return p.text("user")
}

// call clicks button and returns the #status and #www-authenticate it shows once the answer arrived.
func (p *tab) call(button string) (status, challenge string) {
	p.t.Helper()
	seq, err := eval[string](p, `document.getElementById('result').dataset.seq`)
	if err != nil {
		p.t.Fatalf("read #result data-seq: %v", err)
	}
	p.do("click #"+button, chromedp.Click(chromedp.ID(button)))
	p.waitJS("answer to #"+button, `document.getElementById('result').dataset.seq !== `+strconv.Quote(seq))
	return p.text("status"), p.text("www-authenticate")
}

func (p *tab) logout() {
	p.t.Helper()
	// Mark this document: only a new one, loaded after the tenant's logout redirect, lacks the mark.
	if _, err := eval[bool](p, `window.beforeLogout = true`); err != nil {
		p.t.Fatalf("mark the page: %v", err)
	}
	p.do("click #logout", chromedp.Click(chromedp.ID("logout")))
	p.waitJS("back on the app after logout", `window.beforeLogout === undefined && location.pathname === '/' && `+
		`document.body.dataset.ready === 'true'`)
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("ARTIFACTS_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("ARTIFACTS_DIR: %v", err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "tokencheck-browser-") // kept after the test, unlike t.TempDir: it is the artifact
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserFlow is the seed's profile screen, in a browser: alice logs in and calls every route, logs out, and
// bob (no scopes) is refused the scoped route.
func TestBrowserFlow(t *testing.T) {
	path := findBrowser()
	if path == "" {
		msg := "no Chromium found (tried CHROMIUM_PATH and " + strings.Join(browserNames, ", ") +
			" on PATH); install one, e.g. apt-get install chromium"
		if os.Getenv("TOKENCHECK_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; TOKENCHECK_REQUIRE_BROWSER=1 makes this a failure")
		}
		t.Skip(msg)
	}
	appURL := strings.TrimRight(os.Getenv("E2E_APP_URL"), "/")
	if appURL == "" {
		appURL = startStack(t)
	} else {
		t.Logf("testing the running app at %s (E2E_APP_URL)", appURL)
	}
	p := newTab(t, path, appURL)
	p.do("open the app", chromedp.Navigate(appURL+"/"))

	v, err := cdp.Call(p.ctx, chromedp.FromContext(p.ctx).Browser, browser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("Browser.getVersion: %v", err)
	}
	t.Logf("browser: %s (%s, protocol %s)", v.Product, path, v.ProtocolVersion)
	fmt.Printf("browsertest: browser %s %s\n", v.Product, path)

	// Logged out, the private button sends no token.
	p.waitApp("app start")
	if status, _ := p.call("call-public"); status != "200" {
		t.Errorf("logged out #call-public: #status %q, want 200", status)
	}
	if status, challenge := p.call("call-private"); status != "401" || challenge == "" {
		t.Errorf("logged out #call-private: #status %q, #www-authenticate %q, want 401 with a challenge", status, challenge)
	}

	if got := p.login("alice", "alice-password"); !strings.EqualFold(got, "alice") {
		t.Fatalf("#user after logging in as alice = %q, want alice's name", got)
	}
	for _, tt := range []struct {
		button       string
		status       string
		hasChallenge bool
	}{
		{"call-public", "200", false},
		{"call-private", "200", false},
		{"call-scoped", "200", false},
		{"call-private-no-token", "401", true},
	} {
		status, challenge := p.call(tt.button)
		if status != tt.status {
			t.Errorf("alice #%s: #status %q, want %s (body %q)", tt.button, status, tt.status, p.text("body"))
		}
		if (challenge != "") != tt.hasChallenge {
			t.Errorf("alice #%s: #www-authenticate %q, want it empty: %v", tt.button, challenge, !tt.hasChallenge)
		}
	}
	shot, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(artifactsDir(t), "app.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", file)
	fmt.Printf("browsertest: screenshot %s\n", file)

	p.logout()
	if got := p.text("user"); got != "" {
		t.Fatalf("#user after logout = %q, want empty", got)
	}

	if got := p.login("bob", "bob-password"); !strings.EqualFold(got, "bob") {
		t.Fatalf("#user after logging in as bob = %q, want bob's name", got)
	}
	if status, challenge := p.call("call-scoped"); status != "403" || !strings.Contains(challenge, "insufficient_scope") {
		t.Errorf("bob #call-scoped: #status %q, #www-authenticate %q, want 403 with insufficient_scope", status, challenge)
	}
	if status, _ := p.call("call-private"); status != "200" {
		t.Errorf("bob #call-private: #status %q, want 200", status)
	}

	// A callback this tab did not start (a forged or replayed code) logs nobody in, and its URL is cleaned.
	p.do("open a forged callback", chromedp.Navigate(appURL+"/callback?code=forged&state=forged"))
	p.waitApp("app after a forged callback")
	if got := p.text("user"); got != "" {
		t.Errorf("#user after a forged callback = %q, want empty", got)
	}
	if got := p.text("message"); got == "" {
		t.Error("a forged callback shows no #message")
	}
	if loc, _ := eval[string](p, `location.href`); strings.Contains(loc, "forged") {
		t.Errorf("the address still holds the callback's parameters: %s", loc)
	}
}
