package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// Paths are the routes under test; defaults are those of Auth0's API quickstarts.
type Paths struct {
	Public  string // answers 200 without a token
	Private string // needs a valid token
	Scoped  string // needs a valid token with the required scope
}

// DefaultPaths are the Auth0 quickstart routes.
func DefaultPaths() Paths {
	return Paths{Public: "/api/public", Private: "/api/private", Scoped: "/api/private-scoped"}
}

// Minter signs tokens with the issuer's current key; only the stand-in tenant offers one (*tokens.Minter). alg ""
// is the tenant's default (RS256); the header may still say anything.
type Minter interface {
	MintAlg(ctx context.Context, alg string, header, claims map[string]any) (string, error)
}

// Config says where the API and its tenant are and how to get tokens from it.
type Config struct {
	API      string // base URL of the API under test
	Issuer   string // issuer URL, with its trailing slash
	Audience string // the API identifier tokens are asked for
	// ClientID and ClientSecret get a token holding Scope from a real tenant (client credentials).
	ClientID, ClientSecret string
	// NoScopeClientID and NoScopeClientSecret optionally get a valid token without Scope from a real tenant.
	NoScopeClientID, NoScopeClientSecret string
	// Paths are the routes under test; a "" route is one the API does not have (Names.SkipRoute): its cases are
	// skipped, and without a private route the scoped one stands in for it.
	Paths  Paths
	Scope  string // scope the scoped route requires
	Origin string // an origin the API allows (CORS)
	// OriginGiven says the caller chose Origin. Without it, an API that answers Origin with no CORS headers at all is
	// taken for one not served to browsers, and the cases that need CORS support skip instead of failing.
	OriginGiven bool
	// HTTP sends every request; it must have a timeout and not follow redirects (httpcall.NewClient).
	HTTP *http.Client
	// TrapListen is the address of the tester's own key server that jku/x5u tokens point at; "" is 127.0.0.1:0.
	TrapListen string
	// TrapURL is the base URL the API would use to reach that server; "" derives it from the listener.
	TrapURL string
	// Leeway is the API's clock leeway on exp/nbf/iat when the user knows it (LeewayGiven); otherwise the suite
	// measures it with the stand-in tenant.
	Leeway      time.Duration
	LeewayGiven bool
	// DPoP runs the dpop cases even when the API's metadata does not advertise DPoP.
	DPoP bool
	// Names word the skip reasons and notes that say what to set; zero gives generic wording.
	Names Names
	// KeyWait bounds how long the suite gives an API to learn the stand-in tenant's newest signing key before it
	// concludes the API does not know the tenant's keys: an earlier run may have rotated them moments ago, and
	// APIs limit how often an unknown kid makes them fetch the JWKS again. 0 is DefaultKeyWait; negative, no wait.
	KeyWait time.Duration
}

// DefaultKeyWait covers an API that refetches its JWKS for an unknown kid at most every 15 s (this project's
// server) with room to spare.
const DefaultKeyWait = 20 * time.Second

// Env is everything a case's Build needs: the API, the tokens, the issuer's public key and the trap server.
type Env struct {
	API      string
	Paths    Paths
	Scope    string
	Origin   string
	Audience string
	// Issuer is the iss the API trusts (discovery's issuer).
	Issuer    string
	HTTP      *http.Client
	Discovery *tokens.Discovery
	// Minter is nil with a real tenant: cases that need the issuer's key are then skipped.
	Minter Minter
	// ScopedToken is a valid token holding Scope; NoScopeToken a valid one without it ("" when unavailable).
	ScopedToken, NoScopeToken string
	// Trap serves the tester's own keys for the jku/x5u cases; nil skips them.
	Trap *Trap
	// Leeway is the API's clock leeway, given or measured, when LeewayKnown; LeewayNote says which, for reports.
	Leeway      time.Duration
	LeewayKnown bool
	LeewayNote  string
	// Metadata is the API's RFC 9728 document, nil when it publishes none.
	Metadata *ResourceMetadata
	// DPoP holds the dpop cases' keys and bound token, or why they cannot run.
	DPoP *dpopEnv
	// Names are Config.Names, for the skip reasons and notes that say what to set.
	Names Names

	issuerKey *jwk // the published key that signed ScopedToken, nil if not an RSA key in the JWKS
	kid       string
	keyWait   time.Duration // Config.KeyWait, defaulted
	pathRefs  *pathRefCache // what the paths cases compare a 2xx with, fetched once
	noCORS    string        // why the CORS support cases skip; "" when they run
}

// URL is the API's base URL joined with path.
func (e *Env) URL(path string) string {
	return strings.TrimSuffix(e.API, "/") + "/" + strings.TrimPrefix(path, "/")
}

// Prepare discovers the tenant, gets the tokens the cases build on, fetches the published keys, learns the API's
// leeway and starts the trap server. Its errors mean the suite cannot run (exit 2). Close the Env when done.
func Prepare(ctx context.Context, cfg Config) (*Env, error) {
	// The audience and the issuer before the API URL, which callers usually default.
	switch {
	case cfg.Audience == "":
		return nil, &ConfigError{Field: "Audience"}
	case cfg.Issuer == "":
		return nil, &ConfigError{Field: "Issuer"}
	case cfg.API == "":
		return nil, &ConfigError{Field: "API"}
	}
	if cfg.HTTP == nil {
		cfg.HTTP = httpcall.NewClient(10 * time.Second)
	}
	if cfg.Paths == (Paths{}) {
		cfg.Paths = DefaultPaths()
	}
	if cfg.Paths.Private == "" {
		if cfg.Paths.Scoped == "" {
			return nil, &ConfigError{Field: "Paths"}
		}
		cfg.Paths.Private = cfg.Paths.Scoped
	}
	probe := cfg.API
	if cfg.Paths.Public != "" {
		probe = strings.TrimSuffix(cfg.API, "/") + "/" + strings.TrimPrefix(cfg.Paths.Public, "/")
	}
	if _, err := httpcall.Do(ctx, cfg.HTTP, httpcall.Request{Method: http.MethodGet, URL: probe}); err != nil {
		return nil, &UnreachableError{URL: probe, Err: err}
	}
	d, err := tokens.Discover(ctx, cfg.HTTP, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the tenant: %w", err)
	}
	env := &Env{
		API: cfg.API, Paths: cfg.Paths, Scope: cfg.Scope, Origin: cfg.Origin, Audience: cfg.Audience,
		Issuer: d.Issuer, HTTP: cfg.HTTP, Discovery: d, Names: cfg.Names, keyWait: cfg.KeyWait,
		pathRefs: &pathRefCache{},
	}
	if env.keyWait == 0 {
		env.keyWait = DefaultKeyWait
	}
	if env.Issuer == "" {
		env.Issuer = cfg.Issuer
	}
	if err := env.getTokens(ctx, cfg); err != nil {
		return nil, err
	}
	if err := env.loadIssuerKey(ctx); err != nil {
		return nil, err
	}
	// A broken document is judged by the rfc9728 cases; here it only means DPoP is not advertised.
	env.Metadata, _ = fetchResourceMetadata(ctx, env.HTTP, env.API)
	if err := env.prepareDPoP(ctx, cfg.DPoP); err != nil {
		return nil, err
	}
	if err := env.checkFooting(ctx); err != nil {
		return nil, err
	}
	if !cfg.OriginGiven && cfg.Origin != "" {
		env.noCORS = env.probeCORS(ctx)
	}
	env.learnLeeway(ctx, cfg)
	trap, err := StartTrap(ctx, cfg.TrapListen, cfg.TrapURL)
	if err != nil {
		return nil, &TrapError{Listen: cfg.TrapListen, Err: err}
	}
	if env.kid != "" {
		// The trap publishes its key under the issuer's own kid, so an API refuses its tokens for trusting the
		// wrong key set, not for not knowing the kid (some APIs crash on unknown kids: a finding of its own).
		trap.Kid = env.kid
	}
	env.Trap = trap
	return env, nil
}

// Close stops the trap server.
func (e *Env) Close() error {
	if e.Trap == nil {
		return nil
	}
	return e.Trap.Close()
}

// getTokens mints the base tokens with the stand-in tenant, or asks a real tenant with client credentials.
func (e *Env) getTokens(ctx context.Context, cfg Config) error {
	if e.Discovery.IsStandIn() {
		m, err := tokens.NewMinter(e.Discovery, e.HTTP)
		if err != nil {
			return err
		}
		e.Minter = m
		if e.ScopedToken, err = e.mint(ctx, nil, map[string]any{"scope": e.Scope}); err != nil {
			return fmt.Errorf("mint a token with scope %q: %w", e.Scope, err)
		}
		if e.NoScopeToken, err = e.mint(ctx, nil, map[string]any{"scope": nil, "permissions": nil}); err != nil {
			return fmt.Errorf("mint a token without scope: %w", err)
		}
		return nil
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return &NeedCredentialsError{Issuer: cfg.Issuer, Scope: e.Scope, Audience: e.Audience}
	}
	tok, err := tokens.ClientCredentials(ctx, e.HTTP, e.Discovery, tokens.Request{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Audience: e.Audience,
	})
	if err != nil {
		return &CredentialsError{Client: cfg.ClientID, Err: err}
	}
	e.ScopedToken = tok.AccessToken
	if !tokenHasScope(e.ScopedToken, e.Scope) {
		return &GrantError{Client: cfg.ClientID, Scope: e.Scope, Audience: e.Audience}
	}
	if cfg.NoScopeClientID != "" {
		tok, err := tokens.ClientCredentials(ctx, e.HTTP, e.Discovery, tokens.Request{
			ClientID: cfg.NoScopeClientID, ClientSecret: cfg.NoScopeClientSecret, Audience: e.Audience,
		})
		if err != nil {
			return &CredentialsError{Client: cfg.NoScopeClientID, NoScope: true, Err: err}
		}
		e.NoScopeToken = tok.AccessToken
		if tokenHasScope(e.NoScopeToken, e.Scope) {
			return &GrantError{Client: cfg.NoScopeClientID, Scope: e.Scope, Audience: e.Audience, NoScope: true}
		}
	}
	return nil
}

// tokenHasScope reads (without verifying) whether a token's scope claim or permissions array holds scope.
func tokenHasScope(tok, scope string) bool {
	_, claims, err := tokens.DecodeUnverified(tok)
	if err != nil {
		return false
	}
	if s, ok := claims["scope"].(string); ok && slices.Contains(strings.Fields(s), scope) {
		return true
	}
	perms, _ := claims["permissions"].([]any)
	return slices.Contains(perms, any(scope))
}

// mint signs claims (the audience added unless given) with the tenant's key.
func (e *Env) mint(ctx context.Context, header, claims map[string]any) (string, error) {
	return e.mintAlg(ctx, "", header, claims)
}

// mintAlg is mint with the tenant signing by alg ("" for its default, RS256).
func (e *Env) mintAlg(ctx context.Context, alg string, header, claims map[string]any) (string, error) {
	if e.Minter == nil {
		return "", skipf(needsStandIn)
	}
	full := map[string]any{"aud": e.Audience}
	for k, v := range claims {
		full[k] = v
	}
	return e.Minter.MintAlg(ctx, alg, header, full)
}

// mintExact mints and then checks the tenant wrote the header values and claims as asked (nil: absent), so a tenant
// that silently fixes a bad token cannot make a case pass vacuously; a mismatch skips the case.
func (e *Env) mintExact(ctx context.Context, header, claims map[string]any) (string, error) {
	return e.mintExactAlg(ctx, "", header, claims)
}

// mintExactAlg is mintExact with the tenant signing by alg.
func (e *Env) mintExactAlg(ctx context.Context, alg string, header, claims map[string]any) (string, error) {
	tok, err := e.mintAlg(ctx, alg, header, claims)
	if err != nil {
		return "", err
	}
	gotHeader, gotClaims, err := tokens.DecodeUnverified(tok)
	if err != nil {
		return "", fmt.Errorf("the tenant minted an unreadable token: %w", err)
	}
	if err := sameValues("header", header, gotHeader); err != nil {
		return "", skipf("the tenant did not mint the token asked for: %v", err)
	}
	if err := sameValues("claim", claims, gotClaims); err != nil {
		return "", skipf("the tenant did not mint the token asked for: %v", err)
	}
	return tok, nil
}

// loadIssuerKey finds the published key that signed ScopedToken, for the HS256/RS256 confusion cases.
func (e *Env) loadIssuerKey(ctx context.Context) error {
	header, _, err := tokens.DecodeUnverified(e.ScopedToken)
	if err != nil {
		return fmt.Errorf("the tenant's access token is not a JWT (%w); tokencheck tests APIs that take JWT access tokens", err)
	}
	e.kid, _ = header["kid"].(string)
	if e.Discovery.JWKSURI == "" {
		return nil
	}
	keys, err := fetchJWKS(ctx, e.HTTP, e.Discovery.JWKSURI)
	if err != nil {
		return fmt.Errorf("fetch the tenant's key set: %w", err)
	}
	for i := range keys {
		if keys[i].Kid == e.kid && keys[i].rsa != nil {
			e.issuerKey = &keys[i]
		}
	}
	return nil
}

// awaitAlive waits up to aliveWait for the API to answer anything on a fresh connection: after a crash, a
// supervised API may need a moment to come back.
func (e *Env) awaitAlive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, aliveWait)
	defer cancel()
	hc := httpcall.Fresh(e.HTTP)
	req := httpcall.Request{Method: http.MethodGet, URL: e.URL(e.Paths.Public)}
	if e.Paths.Public == "" {
		req = request(e, e.Paths.Private, bearer(e.ScopedToken))
	}
	for {
		_, err := httpcall.Do(ctx, hc, req)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer for %s: %w", aliveWait, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// aliveWait is how long the runner waits for an API that stopped answering before it judges the next crash.
const aliveWait = 5 * time.Second
