package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Request says which token to ask for. Audience is Auth0's API identifier; Scope (space-separated) narrows the
// grant and may be empty.
type Request struct {
	ClientID     string
	ClientSecret string
	Audience     string
	Scope        string
}

// Token is an access token as the tenant issued it.
type Token struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	Expiry      time.Time `json:"expiry"`
	// RefreshToken and IDToken come with a user's login (authorization code flow); empty for machine tokens.
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	// Raw is the token response's JSON fields as the tenant sent them, for display.
	Raw map[string]any `json:"raw,omitempty"`
}

// Valid reports whether the token is still usable margin from now, so a caller never sends one about to expire.
func (t *Token) Valid(now time.Time, margin time.Duration) bool {
	return t != nil && t.AccessToken != "" && !t.Expiry.IsZero() && now.Add(margin).Before(t.Expiry)
}

// TokenError is the tenant's refusal (RFC 6749 §5.2), carrying its error code and description so users see why.
type TokenError struct {
	Status      int
	Code        string
	Description string
	Endpoint    string
	// Hint is what the flow alone can tell about the refusal (the user denied the device, the code expired). It
	// names no setting: which flag or variable to fix is the caller's to say, from Code.
	Hint string
}

func (e *TokenError) Error() string {
	msg := fmt.Sprintf("the tenant refused the token request (HTTP %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	msg += ")"
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// ErrNoClientID is a token request without a client id, refused before anything is sent: which setting gives one
// is the caller's to say.
var ErrNoClientID = errors.New("no client id")

// ErrNoClientSecret is a client-credentials request without the client's secret, refused before anything is sent.
var ErrNoClientSecret = errors.New("no client secret")

// ClientCredentials gets a machine-to-machine token (RFC 6749 §4.4) from d's token endpoint, sending Auth0's
// audience parameter and the credentials in the form body (client_secret_post, accepted by Auth0 and the stand-in).
func ClientCredentials(ctx context.Context, hc *http.Client, d *Discovery, r Request) (*Token, error) {
	if d == nil || d.TokenEndpoint == "" {
		return nil, errors.New("the tenant's discovery document has no token_endpoint")
	}
	if r.ClientID == "" {
		return nil, ErrNoClientID
	}
	if r.ClientSecret == "" {
		return nil, ErrNoClientSecret
	}
	cfg := clientcredentials.Config{
		ClientID:     r.ClientID,
		ClientSecret: r.ClientSecret,
		TokenURL:     d.TokenEndpoint,
		Scopes:       strings.Fields(r.Scope),
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	if r.Audience != "" {
		cfg.EndpointParams = url.Values{"audience": {r.Audience}}
	}
	tok, err := cfg.Token(withClient(ctx, hc))
	if err != nil {
		return nil, tokenErr(d.TokenEndpoint, err)
	}
	return fromOAuth2(tok), nil
}

func withClient(ctx context.Context, hc *http.Client) context.Context {
	if hc == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// tokenErr turns x/oauth2's errors into ones that say what went wrong at the tenant.
func tokenErr(endpoint string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Code: re.ErrorCode, Description: re.ErrorDescription, Endpoint: endpoint}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		if te.Code == "" && te.Description == "" {
			te.Description = strings.TrimSpace(string(re.Body))
			if len(te.Description) > 200 {
				te.Description = te.Description[:200] + "…"
			}
		}
		return te
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("token request to %s: %w", endpoint, err)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return unreachable("token endpoint", endpoint, ue)
	}
	return fmt.Errorf("token request to %s: %w", endpoint, err)
}

func fromOAuth2(tok *oauth2.Token) *Token {
	t := &Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry, RefreshToken: tok.RefreshToken}
	if id, ok := tok.Extra("id_token").(string); ok {
		t.IDToken = id
	}
	if raw, ok := tok.Extra("scope").(string); ok {
		t.Scope = raw
	}
	// Keep the response's fields for display; x/oauth2 stores them as a map for JSON responses.
	fields := map[string]any{}
	for _, k := range []string{"access_token", "token_type", "expires_in", "scope", "id_token", "refresh_token"} {
		if v := tok.Extra(k); v != nil && v != "" {
			fields[k] = v
		}
	}
	fields["access_token"] = tok.AccessToken
	if tok.TokenType != "" {
		fields["token_type"] = tok.TokenType
	}
	t.Raw = fields
	return t
}
