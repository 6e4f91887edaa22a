package httpserve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
)

func TestServe(t *testing.T) {
	cases := []struct {
		name    string
		tls     bool
		hold    time.Duration // how long the in-flight request takes
		grace   time.Duration
		wantErr bool
	}{
		{name: "clean", grace: time.Second},
		{name: "clean over TLS", tls: true, grace: time.Second},
		{name: "in-flight request finishes within grace", hold: 100 * time.Millisecond, grace: 2 * time.Second},
		{name: "in-flight request outlives grace", hold: 3 * time.Second, grace: 50 * time.Millisecond, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{}, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				started <- struct{}{}
				select {
				case <-time.After(tc.hold):
				case <-r.Context().Done():
				}
				_, _ = w.Write([]byte("ok"))
			})
			srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
			client := &http.Client{Timeout: 10 * time.Second}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			scheme := "http"
			if tc.tls {
				ts := httptest.NewUnstartedServer(h) // only for its certificate and a client that trusts it
				ts.StartTLS()
				srv.TLSConfig = ts.TLS.Clone()
				client = ts.Client()
				ts.Close()
				scheme = "https"
			}
			logs := &testhttp.SyncBuffer{}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				done <- Serve(ctx, srv, ln, Options{Grace: tc.grace, Logger: slog.New(slog.NewTextHandler(logs, nil)), Stopped: "thing stopped"})
			}()
			answered := make(chan error, 1)
			go func() {
				res, err := client.Get(scheme + "://" + ln.Addr().String() + "/")
				if err == nil {
					res.Body.Close()
				}
				answered <- err
			}()
			<-started
			cancel()
			err = <-done
			var se *ShutdownError
			if tc.wantErr != errors.As(err, &se) {
				t.Fatalf("Serve = %v, want ShutdownError: %v", err, tc.wantErr)
			}
			if !tc.wantErr {
				if err := <-answered; err != nil {
					t.Fatalf("in-flight request lost: %v", err)
				}
				if !strings.Contains(logs.String(), "thing stopped") {
					t.Fatalf("no stop line in %q", logs.String())
				}
			}
		})
	}
}

func TestServeReportsAServerThatStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve's Accept fails at once
	err = Serve(t.Context(), &http.Server{ReadHeaderTimeout: time.Second}, ln, Options{Grace: time.Second})
	if !errors.Is(err, ErrServing) {
		t.Fatalf("Serve = %v, want ErrServing", err)
	}
}
