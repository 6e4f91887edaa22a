package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// ErrNotLoggedIn is UserToken's answer when the cache holds no usable login for the key.
var ErrNotLoggedIn = errors.New("not logged in")

// ErrLoginExpired is UserToken's answer when the access token is about to expire and there is no refresh token
// (offline_access was not asked for) to renew it.
var ErrLoginExpired = errors.New("the login's access token has expired and there is no refresh token to renew it")

// UserToken returns the user's access token for key from cache, refreshed first when it expires within the
// cache's margin. Refresh tokens rotate: the new one is stored at once, since the old one is spent. refreshed
// reports whether the tenant was asked. A refused refresh (revoked, reused, expired) forgets the login.
func UserToken(ctx context.Context, hc *http.Client, cache *Cache, key CacheKey, discover func() (*Discovery, error)) (tok *Token, refreshed bool, err error) {
	// usable is the cached login if its access token is still good; done reports that nothing is to be refreshed.
	usable := func() (tok *Token, done bool, err error) {
		tok, err = cache.LoadStale(key)
		switch {
		case errors.Is(err, ErrNotCached):
			return nil, true, ErrNotLoggedIn
		case err != nil:
			return nil, true, fmt.Errorf("%w: %w", ErrNotLoggedIn, err)
		case tok.Valid(cache.now(), cache.margin()):
			return tok, true, nil
		case tok.RefreshToken == "":
			return nil, true, ErrLoginExpired
		}
		return tok, false, nil
	}
	var done bool
	if tok, done, err = usable(); done {
		return tok, false, err
	}
	// Only one run refreshes a login at a time: a second use of a rotated refresh token revokes the whole login
	// (RFC 9700 §4.14.2). A run that waited finds the tokens the other one stored.
	unlock, err := cache.lockRefresh(ctx, key)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if tok, done, err = usable(); done {
		return tok, false, err
	}
	d, err := discover()
	if err != nil {
		return nil, false, err
	}
	next, err := Refresh(ctx, hc, d, key.ClientID, tok)
	if err != nil {
		if te, ok := errors.AsType[*TokenError](err); ok && te.Code == "invalid_grant" {
			_ = cache.Delete(key)
		}
		return nil, false, err
	}
	if err := cache.Put(key, next); err != nil {
		return nil, false, fmt.Errorf("store the refreshed tokens (the old refresh token is spent): %w", err)
	}
	return next, true, nil
}

// Refresh uses tok's refresh token at d's token endpoint (RFC 6749 §6) as the public client clientID. The answer
// carries the rotated refresh token; an ID token missing from it is kept from tok.
func Refresh(ctx context.Context, hc *http.Client, d *Discovery, clientID string, tok *Token) (*Token, error) {
	if d == nil || d.TokenEndpoint == "" {
		return nil, errors.New("the tenant's discovery document has no token_endpoint")
	}
	cfg := &oauth2.Config{ClientID: clientID, Endpoint: oauth2.Endpoint{TokenURL: d.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
	old := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)} // expired, so the source refreshes
	otok, err := cfg.TokenSource(withClient(ctx, hc), old).Token()
	if err != nil {
		err = tokenErr(d.TokenEndpoint, err)
		if te, ok := errors.AsType[*TokenError](err); ok && te.Code == "invalid_grant" {
			te.Hint = "the login was revoked or has expired"
		}
		return nil, err
	}
	next := fromOAuth2(otok)
	if next.IDToken == "" {
		next.IDToken = tok.IDToken
	}
	return next, nil
}

// EndSession calls d's end_session_endpoint (OIDC RP-Initiated Logout) with the ID token as hint and no redirect,
// so no browser is needed: the stand-in tenant revokes the login's refresh tokens.
func EndSession(ctx context.Context, hc *http.Client, d *Discovery, clientID, idToken string) error {
	if d == nil || d.EndSessionEndpoint == "" {
		return errors.New("the tenant's discovery document has no end_session_endpoint")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	u, err := url.Parse(d.EndSessionEndpoint)
	if err != nil {
		return fmt.Errorf("end_session_endpoint %q: %w", d.EndSessionEndpoint, err)
	}
	q := u.Query()
	q.Set("client_id", clientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("build logout request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return unreachable("end_session_endpoint", d.EndSessionEndpoint, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the end_session_endpoint %s answered %s", d.EndSessionEndpoint, resp.Status)
	}
	return nil
}
