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
// answered with an error. Every *UnreachableError matches it.
var ErrUnreachable = errors.New("tenant unreachable")

// UnreachableError is a request to the tenant that never got an HTTP answer. It names what was asked and where, so
// a caller can say which setting points there; Err is the transport's root cause, without the URL again.
type UnreachableError struct {
	What string // "tenant" (discovery, the stand-in's endpoints), "token endpoint", "JWKS" or "end_session_endpoint"
	URL  string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the %s at %s: %v", e.What, e.URL, e.Err)
}

// Unwrap gives the transport's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes every UnreachableError match ErrUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// unreachable is the UnreachableError for a transport error from http.Client.Do (or x/oauth2) sent to u.
func unreachable(what, u string, err error) *UnreachableError {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return &UnreachableError{What: what, URL: u, Err: err}
}

// BadIssuerError is an issuer that is not an http(s) URL, refused before anything is sent, so the caller can say
// how to give one.
type BadIssuerError struct{ Issuer string }

func (e *BadIssuerError) Error() string {
	return fmt.Sprintf("issuer %q is not an http(s) URL", e.Issuer)
}

// DiscoveryError is a tenant that answered but gave no usable metadata document at any well-known path: the URL is
// likely not the tenant's. Err is the last document's problem.
type DiscoveryError struct {
	URL string // the issuer URL the documents were looked for under
	Err error
}

func (e *DiscoveryError) Error() string {
	return fmt.Sprintf("tenant at %s has no usable discovery document: %v", e.URL, e.Err)
}

// Unwrap gives the last document's problem.
func (e *DiscoveryError) Unwrap() error { return e.Err }

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
// validate tokens should use Discovery.Issuer. The errors are typed, for the caller to word: a *BadIssuerError, an
// *UnreachableError (matching ErrUnreachable) or a *DiscoveryError.
func Discover(ctx context.Context, hc *http.Client, issuerURL string) (*Discovery, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	base, err := url.Parse(strings.TrimSpace(issuerURL))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, &BadIssuerError{Issuer: issuerURL}
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
		if ue, ok := errors.AsType[*UnreachableError](err); ok {
			return nil, &UnreachableError{What: "tenant", URL: base.String(), Err: ue.Err}
		}
		lastErr = err
		if status != http.StatusNotFound {
			break
		}
	}
	return nil, &DiscoveryError{URL: base.String(), Err: lastErr}
}

func fetchDiscovery(ctx context.Context, hc *http.Client, u string) (*Discovery, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("build discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, unreachable("tenant", u, err)
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
