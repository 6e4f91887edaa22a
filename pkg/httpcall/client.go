package httpcall

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds a whole exchange when NewClient is given no positive timeout, so no call can hang forever.
const DefaultTimeout = 30 * time.Second

// ClientOption tunes NewClient.
type ClientOption func(*http.Transport)

// WithRootCAs trusts the certificates in pool instead of the system's, e.g. the stand-in tenant's generated CA
// together with the system roots (see SystemPoolWith).
func WithRootCAs(pool *x509.CertPool) ClientOption {
	return func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
}

// SystemPoolWith is the system's root certificates plus those in pemCerts; ok is false when pemCerts holds none.
func SystemPoolWith(pemCerts []byte) (pool *x509.CertPool, ok bool) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	return pool, pool.AppendCertsFromPEM(pemCerts)
}

// NewClient returns an HTTP client whose every phase is bounded (dial, TLS handshake, response headers and the whole
// exchange by timeout) and that returns redirects as they are instead of following them, because a checker must see
// the status the server really answered.
func NewClient(timeout time.Duration, opts ...ClientOption) *http.Client {
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
	for _, o := range opts {
		o(tr)
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Fresh is a copy of hc that opens a new connection for every request and keeps none, so one exchange cannot be
// disturbed by what happened on a shared connection (a server that crashed on another request).
func Fresh(hc *http.Client) *http.Client {
	if hc == nil {
		hc = NewClient(0)
	}
	c := *hc
	c.Transport = freshTransport(hc.Transport)
	return &c
}

func freshTransport(rt http.RoundTripper) http.RoundTripper {
	switch t := rt.(type) {
	case nil:
		return freshTransport(http.DefaultTransport)
	case *http.Transport:
		n := t.Clone()
		n.DisableKeepAlives = true
		return n
	case *RedactingTransport:
		return &RedactingTransport{Base: freshTransport(t.Base), Out: t.Out}
	default:
		return rt
	}
}
