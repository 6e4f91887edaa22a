package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// guardedTransport enforces, for every request to the issuer (redirects included), the https rule and a bound on
// the response body, so a hostile or broken tenant cannot downgrade the fetch or exhaust memory.
type guardedTransport struct {
	next          http.RoundTripper
	allowInsecure bool
	maxBody       int64
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && (req.URL.Scheme != "http" || !t.allowInsecure) {
		return nil, fmt.Errorf("refusing %s URL %q: use https, or set ALLOW_INSECURE_ISSUER=true for a local tenant", req.URL.Scheme, req.URL.Redacted())
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, t.maxBody+1), c: resp.Body, left: t.maxBody}
	return resp, nil
}

// limitedBody fails the read once more than left bytes arrive, instead of silently truncating a JSON document.
type limitedBody struct {
	r    io.Reader
	c    io.Closer
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errors.New("issuer response body is too large")
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

// httpClient returns a copy of the configured client (or a default one) whose transport is guarded.
func httpClient(base *http.Client, allowInsecure bool, timeout time.Duration, maxBody int64) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	if c.Timeout == 0 {
		c.Timeout = timeout
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &guardedTransport{next: next, allowInsecure: allowInsecure, maxBody: maxBody}
	return &c
}

// errNoDiscovery marks a 404 from the discovery endpoint: the issuer publishes no metadata, so the conventional
// JWKS path is used instead.
var errNoDiscovery = errors.New("issuer has no OpenID discovery document")

// discoverJWKS reads jwks_uri from <issuer>.well-known/openid-configuration.
func discoverJWKS(ctx context.Context, hc *http.Client, issuer string) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discovery request %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", errNoDiscovery
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery %s: status %d", u, resp.StatusCode)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("discovery %s: decode: %w", u, err)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discovery %s: no jwks_uri; set JWKS_URL", u)
	}
	return doc.JWKSURI, nil
}

// fallbackJWKS is the conventional key set location of an issuer without discovery (Auth0's path).
func fallbackJWKS(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
}
