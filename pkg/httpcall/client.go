package httpcall

import (
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds a whole exchange when NewClient is given no positive timeout, so no call can hang forever.
const DefaultTimeout = 30 * time.Second

// NewClient returns an HTTP client whose every phase is bounded (dial, TLS handshake, response headers and the whole
// exchange by timeout) and that returns redirects as they are instead of following them, because a checker must see
// the status the server really answered.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	phase := min(timeout, 10*time.Second)
	dialer := &net.Dialer{Timeout: phase, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   phase,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
