// Package httpserve runs an http.Server on a listener until its context ends, then shuts it down gracefully: the
// one serve-then-shutdown sequence of the API server, the stand-in tenant and the web app.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Options name what a server's log lines call it and bound its shutdown.
type Options struct {
	// Grace is how long in-flight requests may take to finish once ctx ends; after it, connections are closed.
	Grace time.Duration
	// Logger gets "shutting down" and Stopped; nil logs nothing.
	Logger *slog.Logger
	// Stopped is the log message after a clean shutdown, e.g. "server stopped".
	Stopped string
}

// ShutdownError means requests were still running when the grace period ended; their connections were closed.
type ShutdownError struct {
	Grace time.Duration
	Err   error
}

// Error says what was cut short.
func (e *ShutdownError) Error() string {
	return fmt.Sprintf("requests still running after %s, connections closed: %v", e.Grace, e.Err)
}

// Unwrap exposes the context error of the shutdown.
func (e *ShutdownError) Unwrap() error { return e.Err }

// ErrServing wraps the error of a server that stopped on its own (not because ctx ended).
var ErrServing = errors.New("serving stopped")

// Serve runs srv on ln (TLS when srv.TLSConfig is set, its certificates already in it) until ctx ends, then stops
// accepting, closes idle connections and waits up to o.Grace for the rest. It returns nil after a clean shutdown.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, o Options) error {
	served := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	select {
	case err := <-served:
		return fmt.Errorf("%w: %w", ErrServing, err)
	case <-ctx.Done():
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("shutting down: no new connections, waiting for in-flight requests", slog.String("timeout", o.Grace.String()))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return &ShutdownError{Grace: o.Grace, Err: err}
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%w: %w", ErrServing, err)
	}
	if o.Stopped != "" {
		log.Info(o.Stopped)
	}
	return nil
}
