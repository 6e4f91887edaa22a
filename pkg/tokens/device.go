package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DevicePrompt is what the user must do on another device to approve the device flow.
type DevicePrompt struct {
	VerificationURI         string
	VerificationURIComplete string // the URI with the code filled in, when the tenant offers it
	UserCode                string
	Expiry                  time.Time
}

// DeviceRequest asks for a user's token through the device flow (RFC 8628) for a public client.
type DeviceRequest struct {
	ClientID string
	Audience string
	Scope    string
	// Prompt is called once with the code the user must enter; it must not block for long.
	Prompt func(DevicePrompt)
	// Interval, when positive, replaces the tenant's polling interval (whole seconds, at least one); tests use it.
	Interval time.Duration
}

// Device runs the device flow: it asks d's device authorization endpoint for a code, hands it to r.Prompt, then
// polls the token endpoint (honouring slow_down) until the user approves or denies, the code expires, or ctx ends.
func Device(ctx context.Context, hc *http.Client, d *Discovery, r DeviceRequest) (*Token, error) {
	if d == nil || d.DeviceAuthorizationEndpoint == "" {
		return nil, errors.New("the tenant has no device_authorization_endpoint: enable the device code grant for the application, or use client credentials")
	}
	if d.TokenEndpoint == "" {
		return nil, errors.New("the tenant's discovery document has no token_endpoint")
	}
	if r.ClientID == "" {
		return nil, fmt.Errorf("%w: the device code grant needs a native application's client id", ErrNoClientID)
	}
	cfg := &oauth2.Config{
		ClientID: r.ClientID,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: d.DeviceAuthorizationEndpoint,
			TokenURL:      d.TokenEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		Scopes: strings.Fields(r.Scope),
	}
	var opts []oauth2.AuthCodeOption
	if r.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", r.Audience))
	}
	ctx = withClient(ctx, hc)
	da, err := cfg.DeviceAuth(ctx, opts...)
	if err != nil {
		return nil, tokenErr(d.DeviceAuthorizationEndpoint, err)
	}
	if r.Prompt != nil {
		r.Prompt(DevicePrompt{
			VerificationURI:         da.VerificationURI,
			VerificationURIComplete: da.VerificationURIComplete,
			UserCode:                da.UserCode,
			Expiry:                  da.Expiry,
		})
	}
	if r.Interval > 0 {
		da.Interval = max(int64(r.Interval/time.Second), 1)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("the device code expired before it was approved; run the command again")
		}
		err = tokenErr(d.TokenEndpoint, err)
		var te *TokenError
		if errors.As(err, &te) {
			switch te.Code {
			case "access_denied":
				te.Hint = "the request was denied on the approval page"
			case "expired_token":
				te.Hint = "the code expired before it was approved; run the command again"
			}
		}
		return nil, err
	}
	return fromOAuth2(tok), nil
}
