package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxDocument bounds every JSON document read from a tenant.
const maxDocument = 1 << 20

// ErrUnreachable marks a tenant that could not be contacted at all (refused, DNS, timeout), as opposed to one that
// answered with an error.
var ErrUnreachable = errors.New("tenant unreachable")

// unreachableError is a transport failure (the request never got an HTTP answer); it matches ErrUnreachable and
// shows only the root cause, not the URL again.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string        { return e.err.Error() }
func (e *unreachableError) Unwrap() error        { return e.err }
func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }

// unreachable wraps a transport error from http.Client.Do as an unreachableError.
func unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &unreachableError{err: err}
}

// Discovery is the part of an OIDC / RFC 8414 metadata document the client uses.
type Discovery struct {
	Issuer                      string `json:"issuer"`
	JWKSURI                     string `json:"jwks_uri"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// AuthorizationEndpoint and EndSessionEndpoint serve user login (client login) and logout.
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	EndSessionEndpoint    string `json:"end_session_endpoint,omitempty"`
	// MintEndpoint is only published by tokencheck's stand-in tenant (POST /dev/mint).
	MintEndpoint string `json:"mint_endpoint,omitempty"`
}

// IsStandIn reports whether the tenant is tokencheck's stand-in, which alone can mint arbitrary tokens and rotate
// keys on request.
func (d *Discovery) IsStandIn() bool { return d != nil && d.MintEndpoint != "" }

// wellKnown are tried in order: OIDC discovery (Auth0 and most issuers), then RFC 8414 authorization-server metadata.
var wellKnown = []string{".well-known/openid-configuration", ".well-known/oauth-authorization-server"}

// Discover fetches the tenant's metadata from issuerURL's well-known documents. The document's issuer may differ
// from issuerURL (the stand-in's public issuer is independent of the address it is reached at); callers that
// validate tokens should use Discovery.Issuer. An unreachable tenant gives an error wrapping ErrUnreachable that says
// how to fix it.
func Discover(ctx context.Context, hc *http.Client, issuerURL string) (*Discovery, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	base, err := url.Parse(strings.TrimSpace(issuerURL))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an http(s) URL: set --issuer / ISSUER_URL (e.g. http://localhost:4000/) or AUTH0_DOMAIN", issuerURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	var lastErr error
	for _, doc := range wellKnown {
		u := base.JoinPath(doc).String()
		d, status, err := fetchDiscovery(ctx, hc, u)
		if err == nil {
			return d, nil
		}
		if errors.Is(err, ErrUnreachable) {
			return nil, fmt.Errorf("cannot reach the tenant at %s: %w; is it running? set --issuer / ISSUER_URL", base, err)
		}
		lastErr = err
		if status != http.StatusNotFound {
			break
		}
	}
	return nil, fmt.Errorf("tenant at %s has no usable discovery document: %w; check --issuer / ISSUER_URL", base, lastErr)
}

func fetchDiscovery(ctx context.Context, hc *http.Client, u string) (*Discovery, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("build discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, unreachable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("read %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("GET %s answered %s", u, resp.Status)
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("GET %s: not a JSON metadata document: %w", u, err)
	}
	if d.Issuer == "" && d.JWKSURI == "" && d.TokenEndpoint == "" {
		return nil, resp.StatusCode, fmt.Errorf("GET %s: metadata has no issuer, jwks_uri or token_endpoint", u)
	}
	return &d, resp.StatusCode, nil
}
