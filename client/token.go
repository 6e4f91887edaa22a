package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/pkg/dpop"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// tokenOptions are the flags of `client token`; call shares the ones that say which token to get.
type tokenOptions struct {
	device  bool
	user    bool // the login of client login, refreshed when near expiry
	dpop    bool // ask for a token bound to the CLI's DPoP key (RFC 9449)
	scope   string
	json    bool
	noCache bool
	timeout time.Duration
}

func newTokenCmd(a *app) *cobra.Command {
	o := &tokenOptions{}
	var conn *connOptions
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Get an access token (client credentials, or the device flow with --device)",
		Long: `Get an access token from the tenant named by --issuer / ISSUER_URL (or AUTH0_DOMAIN) for --audience.

The token alone goes to stdout, so TOKEN=$(client token) works; --json shows the token response with the
token's decoded header and claims (NOT verified) and its expiry. Tokens are cached per issuer, client, audience,
scope and grant in the user cache directory until a minute before they expire (--no-cache to skip).

  client token --issuer http://localhost:4000/ --audience https://quickstarts/api \
      --client-id quickstart-read --client-secret read-secret
  client token --device --client-id cli --scope read:messages   # prompts on stderr

--device needs a public (native) application, such as the stand-in's cli: the device flow sends no client
secret, so a confidential client is refused (invalid_client) and --client-secret is not used. With -v, a cached
entry that is ignored (not a private regular file, malformed, for another key, expired) is named on stderr.

--user prints the access token of 'client login' instead (same --issuer, --client-id, --audience; the client id
defaults to native), refreshing it with the refresh token when it expires within a minute.

--dpop asks for a DPoP-bound token (RFC 9449): each token request carries a proof made with the CLI's own P-256
key, which is created once beside the token cache (dpop-key.pem, mode 0600); the token is then usable only with
proofs by that key, as 'client call --dpop' sends them. A tenant without DPoP support answers with a Bearer
token, which is said on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runToken(cmd.Context(), conn, o) },
	}
	conn = a.addConnFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.device, "device", false, "use the device flow (a user approves in a browser) instead of client credentials")
	f.BoolVar(&o.user, "user", false, "print the access token of 'client login' (refreshed when near expiry)")
	f.BoolVar(&o.dpop, "dpop", false, "get a DPoP-bound token (RFC 9449), proofs made with the CLI's own key")
	f.StringVar(&o.scope, "scope", "", "space-separated scopes to ask for (default: all the client is granted)")
	f.BoolVar(&o.json, "json", false, "print the token response, decoded header and claims (unverified) and expiry as JSON")
	f.BoolVar(&o.noCache, "no-cache", false, "always ask the tenant; neither read nor write the token cache")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each HTTP request")
	return cmd
}

func (a *app) runToken(ctx context.Context, conn *connOptions, o *tokenOptions) error {
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	tok, cached, err := a.acquireToken(ctx, conn, a.tokenHTTPClient(conn, o.timeout), o)
	if err != nil {
		return err
	}
	if !o.json {
		fmt.Fprintln(a.stdout, tok.AccessToken)
		return nil
	}
	return writeTokenJSON(a, tok, cached)
}

// tokenHTTPClient is the bounded client for tenant requests, showing the exchange on stderr with --verbose.
func (a *app) tokenHTTPClient(conn *connOptions, timeout time.Duration) *http.Client {
	hc := httpcall.NewClient(timeout)
	if conn.Verbose {
		hc = httpcall.Verbose(hc, a.stderr)
	}
	return hc
}

// missingTokenSettings names every setting a token request lacks, so the user fixes them all in one go.
func missingTokenSettings(conn *connOptions, device bool) error {
	var missing []string
	if conn.IssuerURL() == "" {
		missing = append(missing, "no issuer: set --issuer or ISSUER_URL (or AUTH0_DOMAIN)")
	}
	if conn.Audience == "" {
		missing = append(missing, "no audience: set --audience or AUTH0_AUDIENCE")
	}
	if conn.ClientID == "" {
		missing = append(missing, "no client id: set --client-id or AUTH0_CLIENT_ID")
	}
	if !device && conn.ClientSecret == "" {
		missing = append(missing, "no client secret: set --client-secret or AUTH0_CLIENT_SECRET")
	}
	if len(missing) == 0 {
		return nil
	}
	return usageErrorf("%s", strings.Join(missing, "; "))
}

// tokenCacheKey identifies o's token for conn's tenant and client.
func tokenCacheKey(conn *connOptions, o *tokenOptions) tokens.CacheKey {
	k := tokens.CacheKey{Issuer: conn.IssuerURL(), ClientID: conn.ClientID, Audience: conn.Audience, Scope: o.scope,
		Grant: "client_credentials", Secret: conn.ClientSecret}
	if o.device {
		k.Grant, k.Secret = "device_code", ""
	}
	return k
}

// tokenCache is the user's token cache, or nil (with a warning) when there is none to use.
func (a *app) tokenCache(o *tokenOptions) *tokens.Cache {
	if o.noCache {
		return nil
	}
	dir, err := tokens.DefaultCacheDir(a.getenv)
	if err != nil {
		fmt.Fprintf(a.stderr, "client: warning: %v\n", explainTokensError(err))
		return nil
	}
	return &tokens.Cache{Dir: dir}
}

// acquireToken returns a token for conn and o: from the cache when one is still fresh, else from the tenant (and
// then cached). cached reports which.
func (a *app) acquireToken(ctx context.Context, conn *connOptions, hc *http.Client, o *tokenOptions) (tok *tokens.Token, cached bool, err error) {
	if o.user && o.dpop {
		return nil, false, usageErrorf("--dpop works with client credentials and --device, not with --user: drop one")
	}
	if o.user {
		return a.userToken(ctx, conn, hc, o)
	}
	if err := missingTokenSettings(conn, o.device); err != nil {
		return nil, false, err
	}
	cache, key := a.tokenCache(o), tokenCacheKey(conn, o)
	if o.dpop {
		s, err := a.dpopSigner()
		if err != nil {
			return nil, false, err
		}
		key.DPoPKey = s.Thumbprint()
		hc = tokens.WithDPoP(hc, s)
	}
	if cache != nil {
		t, err := cache.Load(key)
		if err == nil {
			return t, true, nil
		}
		if _, ignored := errors.AsType[*tokens.CacheEntryError](err); ignored && conn.Verbose {
			fmt.Fprintf(a.stderr, "client: %v; fetching a new token\n", err)
		}
	}
	d, err := tokens.Discover(ctx, hc, conn.IssuerURL())
	if err != nil {
		return nil, false, err
	}
	if o.device {
		tok, err = tokens.Device(ctx, hc, d, tokens.DeviceRequest{
			ClientID: conn.ClientID, Audience: conn.Audience, Scope: o.scope, Prompt: a.devicePrompt,
		})
	} else {
		tok, err = tokens.ClientCredentials(ctx, hc, d, tokens.Request{
			ClientID: conn.ClientID, ClientSecret: conn.ClientSecret, Audience: conn.Audience, Scope: o.scope,
		})
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, false, errors.New("interrupted before a token was issued")
		}
		if o.device {
			return nil, false, explainDeviceError(err, conn.ClientID)
		}
		return nil, false, explainCredentialsError(err)
	}
	if o.dpop && !strings.EqualFold(tok.TokenType, "DPoP") {
		fmt.Fprintf(a.stderr, "client: note: the tenant issued a %q token, not a DPoP-bound one: it ignores DPoP proofs\n", tok.TokenType)
	}
	if cache != nil {
		if err := cache.Put(key, tok); err != nil {
			fmt.Fprintf(a.stderr, "client: warning: token not cached: %v\n", err)
		}
	}
	return tok, false, nil
}

// dpopSigner is the CLI's DPoP key (made on first use beside the token cache) as a proof signer.
func (a *app) dpopSigner() (*dpop.Signer, error) {
	if a.dpop != nil {
		return a.dpop, nil
	}
	dir, err := tokens.DefaultCacheDir(a.getenv)
	if err != nil {
		return nil, usageErrorf("--dpop needs a place for its key: %w", err)
	}
	key, err := tokens.LoadDPoPKey(dir)
	if err != nil {
		return nil, usageErrorf("--dpop: %w; remove the file to make a new key (tokens bound to the old one stop working)", err)
	}
	if a.dpop, err = dpop.NewSigner(key); err != nil {
		return nil, usageErrorf("--dpop: %w", err)
	}
	return a.dpop, nil
}

// devicePrompt tells the user, on stderr so stdout stays the token alone, where to approve the device.
func (a *app) devicePrompt(p tokens.DevicePrompt) {
	fmt.Fprintf(a.stderr, "To approve this device, open %s and enter the code: %s\n", p.VerificationURI, p.UserCode)
	if p.VerificationURIComplete != "" {
		fmt.Fprintf(a.stderr, "  (or open %s)\n", p.VerificationURIComplete)
	}
	if !p.Expiry.IsZero() {
		fmt.Fprintf(a.stderr, "Waiting for approval (the code expires in %s)…\n", time.Until(p.Expiry).Round(time.Second))
	}
}

// tokenJSON is what `client token --json` prints. Header and claims are decoded without verification.
type tokenJSON struct {
	TokenResponse map[string]any `json:"token_response"`
	Header        map[string]any `json:"header,omitempty"`
	Claims        map[string]any `json:"claims,omitempty"`
	DecodeError   string         `json:"decode_error,omitempty"`
	ExpiresAt     string         `json:"expires_at,omitempty"`
	ExpiresIn     int64          `json:"expires_in"`
	Cached        bool           `json:"cached"`
	Verified      bool           `json:"verified"`
}

func writeTokenJSON(a *app, tok *tokens.Token, cached bool) error {
	out := tokenJSON{TokenResponse: maps.Clone(tok.Raw), Cached: cached}
	if out.TokenResponse == nil {
		out.TokenResponse = map[string]any{"access_token": tok.AccessToken, "token_type": tok.TokenType}
	}
	if rt, ok := out.TokenResponse["refresh_token"].(string); ok {
		// A refresh token outlives the access token shown here; it stays in the cache, never on the screen.
		out.TokenResponse["refresh_token"] = httpcall.RedactToken(rt)
	}
	if h, c, err := tokens.DecodeUnverified(tok.AccessToken); err == nil {
		out.Header, out.Claims = h, c
	} else {
		out.DecodeError = "the access token is not a JWT (" + err.Error() + ")"
	}
	if !tok.Expiry.IsZero() {
		out.ExpiresAt = tok.Expiry.UTC().Format(time.RFC3339)
		out.ExpiresIn = int64(time.Until(tok.Expiry).Seconds())
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
