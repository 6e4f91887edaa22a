package auth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// maxTokenBytes rejects absurd tokens before any decoding work; real access tokens are a few KiB at most.
const maxTokenBytes = 16 << 10

// Validator checks access tokens against one issuer's key set. It is safe for concurrent use.
type Validator struct {
	cfg     Config
	opts    options
	log     *slog.Logger
	hc      *http.Client
	parser  *jwt.Parser
	keys    *keySet
	kf      keyfunc.Keyfunc // reads keys; a kid not in the snapshot waits for an unknown-kid refetch
	cache   *tokenCache
	metrics *metrics
	refetch *refetcher
	flights singleflight.Group     // one JWKS fetch at a time, shared by periodic refreshes and refetches
	jwksURL atomic.Pointer[string] // set by the first successful load

	life   context.Context // ends with Close; bounds every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// New validates cfg and starts loading the key set in the background; it never waits on the network, so a server
// can start (and report not-ready) while the tenant is unreachable. Call Close to stop the background work.
func New(ctx context.Context, cfg Config, opts ...Option) (*Validator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	v := &Validator{
		cfg:     cfg,
		opts:    o,
		log:     cfg.Logger.With("component", "auth"),
		hc:      httpClient(cfg.HTTPClient, cfg.AllowInsecure, o.httpTimeout, o.maxBodyBytes),
		metrics: m,
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.ClockSkew),
		jwt.WithTimeFunc(o.now),
		jwt.WithStrictDecoding(), // one token, one encoding: no malleable base64 variants
	)
	if cfg.CacheSize > 0 {
		v.cache = newTokenCache(cfg.CacheSize, m)
	}
	v.life, v.cancel = context.WithCancel(ctx)
	v.refetch = &refetcher{
		limiter: rate.NewLimiter(rate.Every(o.unknownKIDInterval), o.unknownKIDBurst),
		waitMax: o.unknownKIDWaitMax,
		now:     time.Now, // the limiter runs on real time even when tests move the token clock
		fetch:   v.refetchUnknownKID,
		stop:    v.life.Done(),
	}
	v.keys = newKeySet(v.log, v.keysChanged)
	v.keys.refetch = v.refetch.await
	v.kf, err = keyfunc.New(keyfunc.Options{Ctx: v.life, Storage: v.keys})
	if err != nil {
		v.cancel()
		return nil, fmt.Errorf("auth: keyfunc: %w", err)
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		v.load(v.life)
	}()
	return v, nil
}

// Ready reports whether a key set has loaded, i.e. whether tokens can be judged at all.
func (v *Validator) Ready() bool { return v.keys.loaded() }

// Close stops loading and refreshing the key set, including a pending unknown-kid refetch. Validations keep
// working with the keys already loaded.
func (v *Validator) Close() error {
	v.closed.Do(func() {
		v.cancel()
		v.refetch.close()
		v.wg.Wait()
	})
	return nil
}

// load resolves the JWKS URL and performs the first fetch, retrying with capped exponential backoff until it
// succeeds or ctx ends; then refreshes the key set every RefreshInterval until ctx ends.
func (v *Validator) load(ctx context.Context) {
	backoff := v.opts.retryMin
	var lastMismatch string
	for attempt := 1; ; attempt++ {
		err := v.tryLoad(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		v.metrics.refreshError.Inc()
		if me, ok := errors.AsType[*IssuerMismatchError](err); ok {
			// A wrong configuration, not an outage: say it once, with both values and the fix.
			if msg := me.Error(); msg != lastMismatch {
				lastMismatch = msg
				v.log.Error("discovery document names another issuer; its keys are refused and the API stays not ready",
					"configured_issuer", me.Configured, "discovered_issuer", me.Discovered, "hint", me.Hint())
			}
		} else {
			v.log.Warn("signing keys not loaded; will retry", "issuer", v.cfg.Issuer, "attempt", attempt,
				"retry_in", backoff.String(), "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, v.opts.retryMax)
	}
	v.log.Info("signing keys loaded", "issuer", v.cfg.Issuer, "jwks_url", *v.jwksURL.Load())
	t := time.NewTicker(v.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = v.fetchKeys()
		}
	}
}

// tryLoad makes one attempt: discovery (unless JWKSURL is set) and the first JWKS fetch.
func (v *Validator) tryLoad(ctx context.Context) error {
	jwksURL := v.cfg.JWKSURL
	if jwksURL == "" {
		dctx, cancel := context.WithTimeout(ctx, v.opts.httpTimeout)
		u, err := discoverJWKS(dctx, v.hc, v.cfg.Issuer, v.cfg.AllowInsecure)
		cancel()
		switch {
		case errors.Is(err, errNoDiscovery):
			u = fallbackJWKS(v.cfg.Issuer)
		case err != nil:
			return err
		}
		jwksURL = u
	}
	if err := v.fetch(ctx, jwksURL); err != nil {
		return fmt.Errorf("fetch JWKS %s: %w", jwksURL, err)
	}
	v.metrics.refreshOK.Inc()
	v.jwksURL.Store(&jwksURL)
	return nil
}

// fetch GETs the JWKS and replaces the key set with what parses.
func (v *Validator) fetch(ctx context.Context, jwksURL string) error {
	ctx, cancel := context.WithTimeout(ctx, v.opts.httpTimeout)
	defer cancel()
	body, status, err := get(ctx, v.hc, jwksURL)
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("%w: %d", jwkset.ErrInvalidHTTPStatusCode, status)
	}
	return v.keys.replace(ctx, body)
}

// fetchKeys refetches the JWKS once the first load has succeeded: detached from any request, under its own
// timeout, and shared with any fetch already in flight. A failure keeps the cached keys; it is logged and counted.
func (v *Validator) fetchKeys() error {
	u := v.jwksURL.Load()
	if u == nil {
		return ErrKeysUnavailable
	}
	_, err, _ := v.flights.Do("jwks", func() (any, error) {
		err := v.fetch(v.life, *u)
		if err != nil {
			if v.life.Err() == nil {
				v.metrics.refreshError.Inc()
				v.log.Warn("JWKS refresh failed; keeping the cached keys", "jwks_url", *u, "error", err)
			}
			return nil, err
		}
		v.metrics.refreshOK.Inc()
		return nil, nil
	})
	return err //nolint:wrapcheck // the flight's own error, already described
}

// refetchUnknownKID is the refetcher's fetch: one JWKS fetch, counted as an unknown-kid refetch.
func (v *Validator) refetchUnknownKID() {
	v.metrics.unknownKIDRefetch.Inc()
	_ = v.fetchKeys()
}

// keysChanged runs after every successful JWKS fetch: forget cached validations whose key left or changed.
func (v *Validator) keysChanged(_ context.Context, old, cur map[string]verifyKey) {
	if v.cache == nil || old == nil {
		return
	}
	for kid, was := range old {
		if now, ok := cur[kid]; !ok || now.pub != was.pub {
			v.cache.dropKID(kid)
		}
	}
}

// Validate verifies token (the compact JWS, without "Bearer ") and returns its claims. It knows nothing of HTTP:
// failures are *ValidationError (ErrKeysUnavailable, wrapped, means no key set has loaded yet), and the adapter
// turns them into answers and counts them.
func (v *Validator) Validate(ctx context.Context, token string) (*Claims, error) {
	var sum [32]byte
	cacheable := v.cache != nil && len(token) <= maxCachedTokenBytes
	if cacheable {
		sum = tokenKey(token)
		if c, ok := v.cache.get(sum, v.opts.now(), v.keys); ok {
			return c, nil
		}
	}
	c, key, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if cacheable {
		v.cache.add(sum, c, v.opts.now(), v.opts.cacheMaxAge, key)
	}
	return c, nil
}

// tokenKey is the cache key of a token: its SHA-256. Hashing a read-only view of the string's bytes avoids copying
// the ~1 KiB token on every request, hit or miss; Sum256 neither writes nor retains its input.
func tokenKey(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) //nolint:gosec // read-only view, see above
}

// verify is the uncached path: parse, check headers, find the key, verify the signature, check the claims.
func (v *Validator) verify(ctx context.Context, token string) (*Claims, *rsa.PublicKey, error) {
	if len(token) > maxTokenBytes {
		return nil, nil, &ValidationError{Reason: ReasonMalformed, Err: errTooLarge}
	}
	claims := &Claims{}
	var kid string
	var key *rsa.PublicKey
	tok, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		pub, id, err := v.key(ctx, t)
		kid, key = id, pub
		if err != nil {
			return nil, err
		}
		return pub, nil
	})
	if err != nil {
		ve := &ValidationError{Reason: classify(tok, claims, err), KID: truncate(kid), Subject: truncate(claims.Subject), Err: err}
		switch ve.Reason {
		case ReasonBadIssuer:
			ve.Got = truncate(claims.Issuer)
		case ReasonBadAudience:
			ve.Got = truncate(strings.Join(claims.Audience, ","))
		}
		if ve.KID == "" && tok != nil {
			s, _ := tok.Header["kid"].(string)
			ve.KID = truncate(s)
		}
		return nil, nil, ve
	}
	claims.keyID = kid
	return claims, key, nil
}

// key enforces the header rules and returns the RSA key named by kid, never one the token itself points at
// (jku, x5u, jwk and x5c are ignored).
func (v *Validator) key(ctx context.Context, t *jwt.Token) (*rsa.PublicKey, string, error) {
	if alg, _ := t.Header["alg"].(string); alg != "RS256" {
		return nil, "", errNotRS256
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, "", errCrit
	}
	if typ, ok := t.Header["typ"]; ok {
		s, _ := typ.(string)
		if !acceptedTyp(s) {
			return nil, "", errBadTyp
		}
	}
	raw, ok := t.Header["kid"]
	if !ok {
		return nil, "", errNoKID
	}
	kid, ok := raw.(string)
	if !ok {
		return nil, "", errBadKID
	}
	if !v.keys.loaded() {
		// Checked only once a key is needed, so a malformed or forged-alg token still gets its precise 401.
		return nil, kid, ErrKeysUnavailable
	}
	if vk, ok := v.keys.lookup(kid); ok {
		if vk.pub == nil {
			return nil, kid, errBadKey
		}
		return vk.pub, kid, nil
	}
	// Unknown kid: keyfunc reads the key set, whose KeyRead waits (at most unknownKIDWaitMax) for a refetch and
	// returns the key it then finds; that key is the one used, after the same RSA checks as every other key.
	raw, err := v.kf.KeyfuncCtx(ctx)(t)
	switch {
	case errors.Is(err, errBadKey):
		return nil, kid, errBadKey
	case err != nil:
		return nil, kid, fmt.Errorf("%w: %w", errUnknownKD, err)
	}
	pub := usableRSA(raw)
	if pub == nil {
		return nil, kid, errBadKey
	}
	return pub, kid, nil
}

// acceptedTyp allows the typ values of access tokens: JWT (Auth0) and at+jwt (RFC 9068), with or without the
// "application/" media-type prefix, in any case.
func acceptedTyp(s string) bool {
	if len(s) > len("application/") && strings.EqualFold(s[:len("application/")], "application/") {
		s = s[len("application/"):]
	}
	return strings.EqualFold(s, "JWT") || strings.EqualFold(s, "at+jwt")
}

// truncate bounds attacker-controlled strings before they reach logs.
func truncate(s string) string {
	const maxLen = 128
	if len(s) > maxLen {
		return s[:maxLen] + "…"
	}
	return s
}
