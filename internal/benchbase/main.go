// Command benchbase is the baseline of scripts/bench.sh: a bare Gin server with one route, GET /api/public,
// answering the same status, Content-Type and body as tokencheck's /api/public, with no middleware at all (no
// request id, metrics, access log, recovery or CORS), in Gin's release mode, behind an http.Server with the same
// timeouts and header limit as pkg/apiserver's. The ratio of the real server's requests/s to this one's is what
// the middleware costs. The body is encoded once at start-up, as the real server's is, so the baseline measures
// Gin and net/http alone, not JSON encoding.
//
//	benchbase -addr 127.0.0.1:PORT
//
// It serves until SIGINT or SIGTERM. It is not part of the API; only the benchmark builds it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/pkg/apiserver"
)

// publicMessage is pkg/api's public message; TestSameResponse checks the answer against pkg/api's router.
const publicMessage = "Hello from a public endpoint! You don't need to be authenticated to see this."

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "benchbase:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %s: only a loopback IP address is allowed", addr)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	srv := newServer(newRouter())
	fmt.Fprintln(os.Stderr, "benchbase listening on", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	_ = srv.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newRouter is the bare Gin engine: gin.New() (no Logger, no Recovery), release mode, one route.
func newRouter() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	body, err := json.Marshal(map[string]string{"message": publicMessage})
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.GET("/api/public", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", body) })
	return r
}

// newServer has pkg/apiserver's limits, so both servers spend the same on deadlines per connection.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: apiserver.DefaultReadHeaderTimeout,
		ReadTimeout:       apiserver.DefaultReadTimeout,
		WriteTimeout:      apiserver.DefaultWriteTimeout,
		IdleTimeout:       apiserver.DefaultIdleTimeout,
		MaxHeaderBytes:    apiserver.DefaultMaxHeaderBytes,
	}
}
