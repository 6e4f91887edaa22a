package httpcall

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("X-Method", r.Method)
			w.Header().Set("X-Auth", r.Header.Get("Authorization"))
			buf := make([]byte, 64)
			n, _ := r.Body.Read(buf)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(buf[:n])
		case "/redirect":
			http.Redirect(w, r, "/echo", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", MaxBody+10)))
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	hc := NewClient(2 * time.Second)
	tests := []struct {
		name       string
		req        Request
		wantStatus int
		wantBody   string
		wantTrunc  bool
		check      func(t *testing.T, r *Response)
	}{
		{name: "method, header and body", req: Request{Method: "POST", URL: srv.URL + "/echo", Header: http.Header{"Authorization": {"Bearer t"}}, Body: []byte("hi")},
			wantStatus: 201, wantBody: "hi", check: func(t *testing.T, r *Response) {
				if r.Header.Get("X-Method") != "POST" || r.Header.Get("X-Auth") != "Bearer t" {
					t.Errorf("server saw %v", r.Header)
				}
				if r.StatusLine() != "201 Created" || r.Duration <= 0 {
					t.Errorf("status line %q duration %v", r.StatusLine(), r.Duration)
				}
			}},
		{name: "default method GET", req: Request{URL: srv.URL + "/echo"}, wantStatus: 201, check: func(t *testing.T, r *Response) {
			if r.Header.Get("X-Method") != "GET" {
				t.Errorf("method %q", r.Header.Get("X-Method"))
			}
		}},
		{name: "redirect not followed", req: Request{URL: srv.URL + "/redirect"}, wantStatus: 302, check: func(t *testing.T, r *Response) {
			if r.Header.Get("Location") != "/echo" {
				t.Errorf("Location %q", r.Header.Get("Location"))
			}
		}},
		{name: "body bounded", req: Request{URL: srv.URL + "/big"}, wantStatus: 200, wantTrunc: true, check: func(t *testing.T, r *Response) {
			if len(r.Body) != MaxBody {
				t.Errorf("body length %d, want %d", len(r.Body), MaxBody)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Do(context.Background(), hc, tc.req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if r.Status != tc.wantStatus || r.Truncated != tc.wantTrunc {
				t.Fatalf("status %d truncated %v, want %d %v", r.Status, r.Truncated, tc.wantStatus, tc.wantTrunc)
			}
			if tc.wantBody != "" && string(r.Body) != tc.wantBody {
				t.Errorf("body %q, want %q", r.Body, tc.wantBody)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		_, err := Do(context.Background(), NewClient(200*time.Millisecond), Request{URL: srv.URL + "/slow"})
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("error = %v, want a timeout", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("timeout took %v", time.Since(start))
		}
	})
	t.Run("refused", func(t *testing.T) {
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		if _, err := Do(context.Background(), hc, Request{URL: closed.URL}); err == nil || !strings.Contains(err.Error(), closed.URL) {
			t.Fatalf("error = %v, want one naming %s", err, closed.URL)
		}
	})
	t.Run("bad URL", func(t *testing.T) {
		if _, err := Do(context.Background(), nil, Request{URL: "http://[::1"}); err == nil {
			t.Fatal("bad URL accepted")
		}
	})
}
