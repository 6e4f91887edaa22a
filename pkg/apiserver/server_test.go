package apiserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/testissuer"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/serverconfig"
)

func init() { gin.SetMode(gin.TestMode) }

// running is a Run in a goroutine on 127.0.0.1:0.
type running struct {
	url    string
	cancel context.CancelFunc
	done   chan error
	logs   *testhttp.SyncBuffer
}

func config(iss *testissuer.Issuer) *serverconfig.Config {
	return &serverconfig.Config{
		Port:                3010,
		Issuer:              iss.URL,
		Audiences:           []string{testissuer.Audience},
		AllowInsecureIssuer: true,
		CORSAllowedOrigins:  []string{"http://localhost:3000"},
		ClockSkew:           30 * time.Second,
		RequiredScope:       "read:messages",
		JWKSRefreshInterval: time.Minute,
		TokenCacheSize:      auth.DefaultCacheSize,
	}
}

func start(t *testing.T, cfg *serverconfig.Config, opts ...Option) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{url: "http://" + ln.Addr().String(), done: make(chan error, 1), logs: &testhttp.SyncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	opts = append([]Option{
		WithListener(ln),
		WithLogger(slog.New(slog.NewJSONHandler(r.logs, nil))),
		WithShutdownTimeout(5 * time.Second),
		WithAuthOptions(auth.WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond)),
	}, opts...)
	go func() { r.done <- Run(ctx, cfg, opts...) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Logf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	eventually(t, "server ready", func() bool { return Healthcheck(context.Background(), r.url+"/readyz", time.Second) == nil })
	return r
}

func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunServesAndLogsStartup(t *testing.T) {
	iss := testissuer.New(t)
	r := start(t, config(iss))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, r.url+"/api/private-scoped", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Token(t, nil))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "scope of read:messages") {
		t.Errorf("private-scoped: %d %s", res.StatusCode, body)
	}
	// The registry has the runtime collectors and the auth metrics beside the HTTP ones.
	res, err = http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, m := range []string{"go_goroutines", "tokencheck_http_requests_total"} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	logs := r.logs.String()
	for _, want := range []string{`"msg":"server starting"`, `"issuer":"` + iss.URL + `"`, `"audiences":["https://quickstarts/api"]`, `"port":3010`} {
		if !strings.Contains(logs, want) {
			t.Errorf("startup log lacks %s:\n%s", want, logs)
		}
	}
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	r.done <- nil // for the cleanup
}

func TestRunRefusesBadSetup(t *testing.T) {
	if err := Run(context.Background(), nil); err == nil {
		t.Error("Run(nil config) succeeded")
	}
	cfg := config(testissuer.New(t))
	cfg.AllowInsecureIssuer = false // auth refuses the http:// issuer
	if err := Run(context.Background(), cfg, WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))); err == nil {
		t.Error("Run with an http issuer and no ALLOW_INSECURE_ISSUER succeeded")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg = config(testissuer.New(t))
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	err = Run(context.Background(), cfg, WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Errorf("Run on a busy port: %v", err)
	}
}

// TestHeaderLimits: oversized headers get 431 from net/http; big-but-allowed ones and garbage never get a 5xx.
func TestHeaderLimits(t *testing.T) {
	iss := testissuer.New(t)
	r := start(t, config(iss))
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"huge cookie", "Cookie: " + strings.Repeat("a", 64<<10), http.StatusRequestHeaderFieldsTooLarge},
		{"huge bearer", "Authorization: Bearer " + strings.Repeat("a", 40<<10), http.StatusRequestHeaderFieldsTooLarge},
		{"large but allowed", "X-Pad: " + strings.Repeat("a", 8<<10), http.StatusOK},
		{"binary junk", "X-Junk: \x01\x02\xff", http.StatusBadRequest},
		{"no colon", "garbage", http.StatusBadRequest},
		{"bearer junk", "Authorization: Bearer \xff\xfe\xfd", http.StatusOK}, // public route ignores it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testhttp.RawGet(t, strings.TrimPrefix(r.url, "http://"), "/api/public", tt.header)
			if got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
		})
	}
}

// TestGracefulShutdownUnderLoad: requests in flight when shutdown starts all get their full answer; afterwards
// new connections are refused and Run returns nil.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	iss := testissuer.New(t)
	var accepted, inFlight atomic.Int64
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/private" {
				next.ServeHTTP(w, r)
				return
			}
			accepted.Add(1)
			inFlight.Add(1)
			defer inFlight.Add(-1)
			time.Sleep(100 * time.Millisecond)
			next.ServeHTTP(w, r)
		})
	}
	r := start(t, config(iss), WithHandlerWrapper(slow))
	tok := iss.Token(t, nil)
	want := `{"message":"Hello from a private endpoint! You need to be authenticated to see this."}`

	const workers, perWorker = 8, 40
	var ok, failed atomic.Int64
	var badMu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range workers {
		wg.Go(func() {
			for range perWorker {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, r.url+"/api/private", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					var op *net.OpError
					if !errors.As(err, &op) || op.Op != "dial" {
						badMu.Lock()
						bad = append(bad, err.Error())
						badMu.Unlock()
					}
					return // the server is gone
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || string(body) != want {
					badMu.Lock()
					bad = append(bad, res.Status+" "+string(body))
					badMu.Unlock()
					return
				}
				ok.Add(1)
			}
		})
	}
	eventually(t, "requests in flight", func() bool { return accepted.Load() >= 3*workers && inFlight.Load() > 0 })
	r.cancel()
	wg.Wait()
	if err := <-r.done; err != nil {
		t.Errorf("Run: %v", err)
	}
	r.done <- nil

	if len(bad) > 0 {
		t.Errorf("%d requests lost or broken during shutdown, e.g. %q", len(bad), bad[0])
	}
	if ok.Load() != accepted.Load() {
		t.Errorf("server accepted %d requests but clients got %d answers", accepted.Load(), ok.Load())
	}
	if failed.Load() == 0 {
		t.Errorf("no request was refused after shutdown; did the server stop?")
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(r.url, "http://"), time.Second); err == nil {
		t.Error("server still accepts connections after Run returned")
	}
	t.Logf("answered %d requests, %d refused after shutdown", ok.Load(), failed.Load())
}

func TestShutdownDeadline(t *testing.T) {
	iss := testissuer.New(t)
	release := make(chan struct{})
	defer close(release)
	stuck := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/public" {
				<-release
			}
			next.ServeHTTP(w, r)
		})
	}
	r := start(t, config(iss), WithHandlerWrapper(stuck), WithShutdownTimeout(100*time.Millisecond))
	go func() {
		res, err := http.Get(r.url + "/api/public")
		if err == nil {
			res.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	r.cancel()
	if err := <-r.done; err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Run with a stuck request: %v", err)
	}
	r.done <- nil
}

func TestHealthcheck(t *testing.T) {
	iss := testissuer.New(t)
	iss.SetDown(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, config(iss), WithListener(ln), WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
			WithAuthOptions(auth.WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond)))
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	eventually(t, "liveness", func() bool { return Healthcheck(context.Background(), url+"/healthz", time.Second) == nil })
	if err := Healthcheck(context.Background(), url+"/readyz", time.Second); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("readyz with the tenant down: %v", err)
	}
	iss.SetDown(false)
	eventually(t, "readiness", func() bool { return Healthcheck(context.Background(), url+"/readyz", time.Second) == nil })
	if err := Healthcheck(context.Background(), "http://127.0.0.1:1/readyz", time.Second); err == nil {
		t.Error("healthcheck of a closed port succeeded")
	}
	if err := Healthcheck(context.Background(), "::nope", time.Second); err == nil {
		t.Error("healthcheck of a bad URL succeeded")
	}
}

// TestSlowClientsAreCut: a client that trickles its headers (slowloris) or idles on a keep-alive connection is
// disconnected by the server's timeouts instead of holding a connection forever.
func TestSlowClientsAreCut(t *testing.T) {
	iss := testissuer.New(t)
	r := start(t, config(iss), WithTimeouts(Timeouts{ReadHeader: 200 * time.Millisecond, Idle: 200 * time.Millisecond}))
	addr := strings.TrimPrefix(r.url, "http://")
	for _, tt := range []struct{ name, send string }{
		{"partial headers", "GET /api/public HTTP/1.1\r\nHost: x\r\nX-Slow: "},
		{"idle keep-alive", "GET /api/public HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			start := time.Now()
			_, err = io.Copy(io.Discard, conn) // returns when the server closes the connection
			if err != nil {
				t.Fatalf("server kept the connection open: %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("connection closed after %s", d)
			}
		})
	}
}

// TestMaxConnections: beyond MAX_CONNECTIONS, a new connection is not served until one of the others closes.
func TestMaxConnections(t *testing.T) {
	iss := testissuer.New(t)
	cfg := config(iss)
	cfg.MaxConnections = 2
	r := start(t, cfg)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections() // the readiness probe's keep-alive connection
	time.Sleep(200 * time.Millisecond)
	addr := strings.TrimPrefix(r.url, "http://")
	held := make([]net.Conn, 2)
	for i := range held {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /api/public HTTP/1.1\r\nHost: x\r\n"); err != nil { // headers never end
			t.Fatal(err)
		}
		held[i] = conn
	}
	time.Sleep(100 * time.Millisecond)
	get := func(timeout time.Duration) error {
		c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Get(r.url + "/api/public")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return errors.New(res.Status)
		}
		return nil
	}
	if err := get(300 * time.Millisecond); err == nil {
		t.Fatal("a third connection was served while two were held with a limit of 2")
	}
	held[0].Close()
	if err := get(3 * time.Second); err != nil {
		t.Fatalf("not served after a held connection closed: %v", err)
	}
}

// TestOversizedHeaderGetsItsAnswer: with the connection limit in place, a request whose headers are too large
// still gets net/http's 431, not a connection reset (which a limit listener hiding CloseWrite causes).
func TestOversizedHeaderGetsItsAnswer(t *testing.T) {
	iss := testissuer.New(t)
	cfg := config(iss)
	cfg.MaxConnections = 8
	r := start(t, cfg)
	for i := range 5 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.url+"/api/private", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 32<<10))
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("try %d: no answer: %v", i, err)
		}
		// The answer has no length: its body ends at the server's FIN, which a reset would replace.
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("try %d: reading the 431's body: %v", i, err)
		}
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("try %d: status %d, want 431", i, res.StatusCode)
		}
	}
}

// TestRefusalsAreLoggedAndCounted: the answers net/http gives itself, before any handler, reach the log and the
// metrics; ordinary answers on the same server do not count as refusals.
func TestRefusalsAreLoggedAndCounted(t *testing.T) {
	iss := testissuer.New(t)
	r := start(t, config(iss))
	raw := func(req string) string {
		t.Helper()
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(r.url, "http://"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line)
	}
	cases := []struct {
		name, req, status string
	}{
		{"unsupported version", "GET /api/public HTTP/3.0\r\nHost: x\r\n\r\n", "505"},
		{"unsupported transfer encoding", "POST /api/public HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
		{"missing host", "GET /api/public HTTP/1.1\r\n\r\n", "400"},
		{"oversized header", "GET /api/public HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", "431"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := raw(tc.req); !strings.HasPrefix(got, "HTTP/1.1 "+tc.status) {
				t.Fatalf("answer %q, want %s", got, tc.status)
			}
		})
	}
	if got := raw("GET /api/public HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("public: %q", got)
	}
	eventually(t, "refusal log lines", func() bool {
		return strings.Count(r.logs.String(), `"msg":"request refused before routing"`) == len(cases)
	})
	for _, tc := range cases {
		if !strings.Contains(r.logs.String(), `"status":`+tc.status) {
			t.Errorf("no log line with status %s:\n%s", tc.status, r.logs.String())
		}
	}
	res, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, tc := range cases {
		want := `tokencheck_http_refused_total{status="` + tc.status + `"} 1`
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), `tokencheck_http_refused_total{status="200"}`) {
		t.Error("an ordinary answer was counted as a refusal")
	}
}

func TestRefusalStatus(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n505 x", 505},
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request", 400},
		{"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n", 0},
		{"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nDate: x\r\n\r\n", 0},
		{"HTTP/1.1 4x0 Bad\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n", 0},
		{`{"message":"HTTP/1.1 400"}`, 0},
		{"HTTP/1.", 0},
		{"", 0},
	}
	for _, tc := range cases {
		if got := refusalStatus([]byte(tc.in)); got != tc.want {
			t.Errorf("refusalStatus(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
