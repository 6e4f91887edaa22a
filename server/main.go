// Command server is tokencheck's protected API: a Gin server that validates RS256 access tokens against an
// Auth0 (or any OIDC) tenant's key set. Configuration comes from flags, the environment and ./.env; see --help.
//
//	server [flags]                         serve until SIGINT or SIGTERM, then shut down gracefully
//	server healthcheck [--url URL]         exit 0 if URL (default http://127.0.0.1:$PORT/readyz) answers 200
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/internal/jsonlog"
	"github.com/tokencheck/tokencheck/pkg/apiserver"
	"github.com/tokencheck/tokencheck/pkg/serverconfig"
)

// Exit codes: 0 clean stop, 1 failed while running (or health check failed), 2 bad configuration or usage.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	gin.SetMode(gin.ReleaseMode) // the binary owns process-wide settings; no debug route dump on stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole program with its streams and environment passed in, so tests run it as a user would.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck(ctx, args[1:], stderr, getenv)
	}
	cfg, err := serverconfig.Load(args, serverconfig.WithGetenv(getenv), serverconfig.WithOutput(stderr))
	if errors.Is(err, serverconfig.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "server: %v\n", err)
		return exitUsage
	}
	logOut := stdout
	if interval := logFlushInterval(cfg); interval > 0 {
		buffered := newLogBuffer(stdout, interval)
		defer func() { _ = buffered.Close() }() // before the exit code is returned, so no line is lost
		logOut = buffered
	}
	// jsonlog writes what slog.NewJSONHandler(logOut, nil) would, byte for byte, in about half the time per line.
	logger := slog.New(jsonlog.NewHandlerLevel(logOut, cfg.LogLevel))
	if addr := getenv(envPprofAddr); addr != "" {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := startPprof(pctx, addr, logger); err != nil {
			fmt.Fprintf(stderr, "server: %v\n", err)
			return exitUsage
		}
	}
	if err := apiserver.Run(ctx, cfg, apiserver.WithLogger(logger)); err != nil {
		logger.Error("server failed", slog.String("error", err.Error()))
		return exitFailed
	}
	return exitOK
}

// logFlushInterval is how long log lines may wait in the stdout buffer; 0 means unbuffered.
func logFlushInterval(cfg *serverconfig.Config) time.Duration {
	switch d := cfg.LogFlushInterval; {
	case d < 0:
		return 0
	case d == 0:
		return serverconfig.DefaultLogFlushInterval
	default:
		return d
	}
}

// healthcheck lets a distroless container probe the server without curl.
func healthcheck(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	port := strconv.Itoa(serverconfig.DefaultPort)
	if p := getenv(serverconfig.EnvPort); p != "" {
		port = p
	}
	fs := flag.NewFlagSet("server healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:"+port+"/readyz", "URL that must answer 200")
	timeout := fs.Duration("timeout", apiserver.DefaultHealthcheckTimeout, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "server healthcheck: unexpected argument %q; use --url URL\n", fs.Arg(0))
		return exitUsage
	}
	if err := apiserver.Healthcheck(ctx, *url, *timeout); err != nil {
		if bu, ok := errors.AsType[*apiserver.BadURLError](err); ok {
			fmt.Fprintf(stderr, "server healthcheck: bad --url %q: %v\n", bu.URL, bu.Err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "server: %v\n", err)
		return exitFailed
	}
	return exitOK
}
