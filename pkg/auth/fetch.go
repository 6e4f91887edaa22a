package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxRedirects bounds redirects on issuer calls (net/http's own default is 10).
const maxRedirects = 5

// Errors of the calls to the issuer; they say what was refused so callers can map them onto their own settings.
var (
	// ErrInsecureURL means an http:// URL was refused because Config.AllowInsecure is false.
	ErrInsecureURL = errors.New("auth: refusing a plain http URL")
	// ErrCrossHostRedirect means the issuer redirected a discovery or JWKS request to another host.
	ErrCrossHostRedirect = errors.New("auth: refusing a redirect to another host")
	// errBodyTooLarge means the issuer sent more than the response body bound.
	errBodyTooLarge = errors.New("issuer response body is too large")
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
		return nil, fmt.Errorf("%w: %s", ErrInsecureURL, req.URL.Redacted())
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
		return n, errBodyTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

// httpClient returns a copy of the configured client (or a default one) whose transport is guarded and which
// follows redirects only within the host first asked, so a compromised or misconfigured path on the issuer cannot
// send the key fetch elsewhere.
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
	check := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("auth: stopped after %d redirects", len(via))
		}
		if !sameHost(req.URL, via[0].URL) {
			return fmt.Errorf("%w: %s to %s", ErrCrossHostRedirect, via[0].URL.Redacted(), req.URL.Redacted())
		}
		if check != nil {
			return check(req, via)
		}
		return nil
	}
	return &c
}

// sameHost compares hosts case-insensitively with the scheme's default port made explicit.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// errNoDiscovery marks a 404 from the discovery endpoint: the issuer publishes no metadata, so the conventional
// JWKS path is used instead.
var errNoDiscovery = errors.New("issuer has no OpenID discovery document")

// IssuerMismatchError means the discovery document names another issuer than the configured one. OpenID Connect
// Discovery §4.3 and RFC 8414 §3.3 require them to be identical, and tokens carry the document's value in iss, so
// accepting the keys would only make every token fail later with a less useful reason.
type IssuerMismatchError struct {
	// Configured is the issuer this validator was configured with.
	Configured string
	// Discovered is the issuer the discovery document names.
	Discovered string
}

// Error names both values.
func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("auth: discovery document names issuer %q, not the configured %q", e.Discovered, e.Configured)
}

// Hint is the likely fix, for the one log line that reports the mismatch.
func (e *IssuerMismatchError) Hint() string {
	switch {
	case strings.TrimRight(e.Configured, "/") == strings.TrimRight(e.Discovered, "/"):
		return fmt.Sprintf("the two differ only by a trailing slash; configure the issuer exactly as %q", e.Discovered)
	case strings.EqualFold(e.Configured, e.Discovered):
		return fmt.Sprintf("the two differ only in letter case; configure the issuer exactly as %q", e.Discovered)
	case e.Discovered == "":
		return "the discovery document has no issuer; configure the JWKS URL explicitly if this issuer is trusted"
	}
	return fmt.Sprintf("configure the issuer as %q if that is the tenant tokens come from", e.Discovered)
}

// ForeignJWKSError means discovery pointed the key set at another host than the issuer's. Such a document is
// refused rather than followed; issuers whose keys really live elsewhere are configured with an explicit JWKS URL.
type ForeignJWKSError struct {
	// Issuer is the configured issuer.
	Issuer string
	// JWKSURI is the jwks_uri the discovery document gave.
	JWKSURI string
}

// Error names both URLs.
func (e *ForeignJWKSError) Error() string {
	return fmt.Sprintf("auth: discovery's jwks_uri %q is not on the issuer's host (%s); configure the JWKS URL explicitly if that host is trusted",
		e.JWKSURI, e.Issuer)
}

// discoverJWKS reads jwks_uri from <issuer>.well-known/openid-configuration, after checking the document is the
// issuer's own (issuer equal, jwks_uri on the same host).
func discoverJWKS(ctx context.Context, hc *http.Client, issuer string, allowInsecure bool) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	body, status, err := get(ctx, hc, u)
	switch {
	case err != nil:
		return "", fmt.Errorf("discovery %s: %w", u, err)
	case status == http.StatusNotFound:
		return "", errNoDiscovery
	case status != http.StatusOK:
		return "", fmt.Errorf("discovery %s: status %d", u, status)
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("discovery %s: decode: %w", u, err)
	}
	if doc.Issuer != issuer {
		return "", &IssuerMismatchError{Configured: issuer, Discovered: doc.Issuer}
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discovery %s: no jwks_uri; configure the JWKS URL explicitly", u)
	}
	if err := CheckURL(doc.JWKSURI, allowInsecure); err != nil {
		return "", fmt.Errorf("discovery %s: jwks_uri %q %w", u, doc.JWKSURI, err)
	}
	iu, _ := url.Parse(issuer) // validated by Config.validate
	ju, _ := url.Parse(doc.JWKSURI)
	if !sameHost(iu, ju) {
		return "", &ForeignJWKSError{Issuer: issuer, JWKSURI: doc.JWKSURI}
	}
	return doc.JWKSURI, nil
}

// get fetches u and returns its (bounded) body and status.
func get(ctx context.Context, hc *http.Client, u string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, resp.StatusCode, nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	return body, resp.StatusCode, nil
}

// fallbackJWKS is the conventional key set location of an issuer without discovery (Auth0's path).
func fallbackJWKS(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
}
