package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Minter asks the stand-in tenant to sign arbitrary tokens (POST /dev/mint), which the conformance suite uses to
// build tokens a real tenant would never issue (expired, wrong audience, odd headers).
type Minter struct {
	Endpoint string       // the discovery document's mint_endpoint
	HTTP     *http.Client // nil means http.DefaultClient
}

// ErrNotStandIn means the tenant has no mint_endpoint: only the stand-in tenant signs tokens on request.
var ErrNotStandIn = errors.New("the tenant has no mint_endpoint: minting needs the stand-in tenant")

// NewMinter returns a Minter for d's mint endpoint, or ErrNotStandIn when d is not the stand-in tenant.
func NewMinter(d *Discovery, hc *http.Client) (*Minter, error) {
	if !d.IsStandIn() {
		return nil, ErrNotStandIn
	}
	return &Minter{Endpoint: d.MintEndpoint, HTTP: hc}, nil
}

// Null, as a header or claim value given to MintAlg, makes that entry JSON null in the token, where a nil value
// removes it: a "kid": null header is a token no real issuer writes, and one some APIs crash on.
var Null = nullValue{}

type nullValue struct{}

// MarshalJSON is null, so a token compared with what was asked for matches.
func (nullValue) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// splitNulls is m without its Null values, and their names.
func splitNulls(m map[string]any) (rest map[string]any, nulls []string) {
	if m == nil {
		return nil, nil
	}
	rest = make(map[string]any, len(m))
	for k, v := range m {
		if _, ok := v.(nullValue); ok {
			nulls = append(nulls, k)
			continue
		}
		rest[k] = v
	}
	return rest, nulls
}

// Mint returns a token signed RS256 by the tenant's current key; it is MintAlg with the tenant's default alg.
func (m *Minter) Mint(ctx context.Context, header, claims map[string]any) (string, error) {
	return m.MintAlg(ctx, "", header, claims)
}

// MintAlg returns a token the tenant signs with alg: RS256, RS384, RS512, PS256, PS384 or PS512 with its current
// RSA key, or ES256 with its P-256 key (a tenant run with --ec-key); "" leaves the choice to the tenant (RS256).
// The tenant starts from a normal token's header (saying the alg and kid it used) and claims; entries given here
// override them, a nil claim or header value removes that entry, and Null makes it JSON null. The header may lie
// about the alg; the signature never follows it. An alg the tenant does not sign with is its 400 invalid_request.
func (m *Minter) MintAlg(ctx context.Context, alg string, header, claims map[string]any) (string, error) {
	if m == nil || m.Endpoint == "" {
		return "", errors.New("minter has no endpoint: the tenant is not the stand-in (no mint_endpoint in discovery)")
	}
	header, nullHeader := splitNulls(header)
	claims, nullClaims := splitNulls(claims)
	payload := map[string]any{"claims": claims}
	if claims == nil {
		payload["claims"] = map[string]any{}
	}
	if header != nil {
		payload["header"] = header
	}
	if len(nullHeader)+len(nullClaims) > 0 {
		payload["set_null"] = map[string][]string{"header": nullHeader, "claims": nullClaims}
	}
	if alg != "" {
		payload["alg"] = alg
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode mint request: %w", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := postJSON(ctx, m.HTTP, m.Endpoint, body, &out); err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("mint: %s answered without access_token", m.Endpoint)
	}
	return out.AccessToken, nil
}

// Rotate asks the stand-in tenant to change its signing key (POST /dev/rotate {}, beside the mint endpoint): the
// key PrepublishKey staged, or else a new one, signs from now on; the previous key stays in the JWKS until the
// next rotation.
func Rotate(ctx context.Context, hc *http.Client, d *Discovery) error {
	return rotate(ctx, hc, d, "rotate", []byte("{}"), nil) // the answer is not needed, so not required to parse
}

// PrepublishKey asks the stand-in tenant to stage its next signing key (POST /dev/rotate {"prepublish":true}), as
// Auth0 publishes its next key before signing with it: the key is in the JWKS at once and signs only after the
// next Rotate. It returns the staged kid; asked again before Rotate, the tenant keeps and returns the same key.
func PrepublishKey(ctx context.Context, hc *http.Client, d *Discovery) (string, error) {
	var out rotateAnswer
	if err := rotate(ctx, hc, d, "prepublish key", []byte(`{"prepublish":true}`), &out); err != nil {
		return "", err
	}
	if out.Next == "" {
		return "", errors.New(`prepublish key: the tenant answered without "next": it cannot stage keys (an older stand-in?)`)
	}
	return out.Next, nil
}

// rotateAnswer is the stand-in's /dev/rotate answer.
type rotateAnswer struct {
	Kid       string   `json:"kid"`       // the signing key after the call
	Published []string `json:"published"` // every kid in the JWKS
	Next      string   `json:"next"`      // the staged key, "" if none
}

// rotate posts body to the rotation endpoint beside d's mint endpoint and decodes the answer into out (nil skips
// it); what names the operation in errors.
func rotate(ctx context.Context, hc *http.Client, d *Discovery, what string, body []byte, out *rotateAnswer) error {
	if !d.IsStandIn() {
		return fmt.Errorf("%s: the tenant has no mint_endpoint, so it is not the stand-in and cannot rotate on request", what)
	}
	u, err := RotateURL(d.MintEndpoint)
	if err != nil {
		return err
	}
	var dst any
	if out != nil {
		dst = out
	}
	if err := postJSON(ctx, hc, u, body, dst); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// RotateURL is the rotation endpoint beside mintEndpoint: its last path segment replaced by "rotate".
func RotateURL(mintEndpoint string) (string, error) {
	u, err := url.Parse(mintEndpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("mint_endpoint %q is not a URL", mintEndpoint)
	}
	dir := u.Path[:strings.LastIndex(u.Path, "/")+1]
	u.Path = dir + "rotate"
	u.RawPath = ""
	return u.String(), nil
}

func postJSON(ctx context.Context, hc *http.Client, u string, body []byte, out any) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request to %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return unreachable("tenant", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(data, &e)
		if e.Error != "" {
			return fmt.Errorf("POST %s answered %s: %s %s", u, resp.Status, e.Error, e.Description)
		}
		return fmt.Errorf("POST %s answered %s", u, resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("POST %s: answer is not JSON: %w", u, err)
	}
	return nil
}
