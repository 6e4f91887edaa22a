package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// issuerKeys is everything one trusted issuer needs: its own parser (exact iss), key set, keyfunc, unknown-kid
// refetch limiter, fetch deduplication and load loop. Issuers share nothing but the token cache and the metrics,
// so a flood of forged kids for one issuer never spends another's refetch budget.
type issuerKeys struct {
	issuer  string
	jwksURL string // configured override; empty means discovery
	parser  *jwt.Parser
	keys    *keySet
	kf      keyfunc.Keyfunc
	refetch *refetcher
	flights singleflight.Group     // one JWKS fetch at a time, shared by periodic refreshes and refetches
	loaded  atomic.Pointer[string] // the JWKS URL, set by the first successful load
}

// newIssuerKeys builds the per-issuer state; loading starts with v.load.
func (v *Validator) newIssuerKeys(issuer string) (*issuerKeys, error) {
	ik := &issuerKeys{issuer: issuer, jwksURL: v.cfg.JWKSURL}
	ik.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(v.cfg.Audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.cfg.ClockSkew),
		jwt.WithTimeFunc(v.opts.now),
		jwt.WithStrictDecoding(), // one token, one encoding: no malleable base64 variants
	)
	ik.refetch = &refetcher{
		limiter: rate.NewLimiter(rate.Every(v.opts.unknownKIDInterval), v.opts.unknownKIDBurst),
		waitMax: v.opts.unknownKIDWaitMax,
		now:     time.Now, // the limiter runs on real time even when tests move the token clock
		fetch:   func() { v.refetchUnknownKID(ik) },
		stop:    v.life.Done(),
	}
	ik.keys = newKeySet(v.log, func(ctx context.Context, old, cur map[string]verifyKey) { v.keysChanged(ctx, ik, old, cur) })
	ik.keys.refetch = ik.refetch.await
	kf, err := keyfunc.New(keyfunc.Options{Ctx: v.life, Storage: ik.keys})
	if err != nil {
		return nil, fmt.Errorf("auth: keyfunc: %w", err)
	}
	ik.kf = kf
	return ik, nil
}

// load resolves the JWKS URL and performs the first fetch, retrying with capped exponential backoff until it
// succeeds or ctx ends; then refreshes the key set every RefreshInterval until ctx ends.
func (v *Validator) load(ctx context.Context, ik *issuerKeys) {
	backoff := v.opts.retryMin
	var lastMismatch string
	for attempt := 1; ; attempt++ {
		err := v.tryLoad(ctx, ik)
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
			v.log.Warn("signing keys not loaded; will retry", "issuer", ik.issuer, "attempt", attempt,
				"retry_in", backoff.String(), "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, v.opts.retryMax)
	}
	v.log.Info("signing keys loaded", "issuer", ik.issuer, "jwks_url", *ik.loaded.Load())
	t := time.NewTicker(v.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = v.fetchKeys(ik)
		}
	}
}

// tryLoad makes one attempt: discovery (unless JWKSURL is set) and the first JWKS fetch.
func (v *Validator) tryLoad(ctx context.Context, ik *issuerKeys) error {
	jwksURL := ik.jwksURL
	if jwksURL == "" {
		dctx, cancel := context.WithTimeout(ctx, v.opts.httpTimeout)
		u, err := discoverJWKS(dctx, v.hc, ik.issuer, v.cfg.AllowInsecure)
		cancel()
		switch {
		case errors.Is(err, errNoDiscovery):
			u = fallbackJWKS(ik.issuer)
		case err != nil:
			return err
		}
		jwksURL = u
	}
	if err := v.fetch(ctx, ik, jwksURL); err != nil {
		return fmt.Errorf("fetch JWKS %s: %w", jwksURL, err)
	}
	v.metrics.refreshOK.Inc()
	ik.loaded.Store(&jwksURL)
	return nil
}

// fetch GETs the JWKS and replaces the issuer's key set with what parses.
func (v *Validator) fetch(ctx context.Context, ik *issuerKeys, jwksURL string) error {
	ctx, cancel := context.WithTimeout(ctx, v.opts.httpTimeout)
	defer cancel()
	body, status, err := get(ctx, v.hc, jwksURL)
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("%w: %d", jwkset.ErrInvalidHTTPStatusCode, status)
	}
	return ik.keys.replace(ctx, body)
}

// fetchKeys refetches the JWKS once the first load has succeeded: detached from any request, under its own
// timeout, and shared with any fetch already in flight. A failure keeps the cached keys; it is logged and counted.
func (v *Validator) fetchKeys(ik *issuerKeys) error {
	u := ik.loaded.Load()
	if u == nil {
		return ErrKeysUnavailable
	}
	_, err, _ := ik.flights.Do("jwks", func() (any, error) {
		err := v.fetch(v.life, ik, *u)
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
func (v *Validator) refetchUnknownKID(ik *issuerKeys) {
	v.metrics.unknownKIDRefetch.Inc()
	_ = v.fetchKeys(ik)
}

// keysChanged runs after every successful JWKS fetch: forget cached validations whose key left or changed.
func (v *Validator) keysChanged(_ context.Context, ik *issuerKeys, old, cur map[string]verifyKey) {
	if v.cache == nil || old == nil {
		return
	}
	for kid, was := range old {
		if now, ok := cur[kid]; !ok || now.pub != was.pub {
			v.cache.dropKID(ik.keys, kid)
		}
	}
}

// pick chooses the issuer whose keys may verify token. With one issuer it is that one (golang-jwt then checks iss
// exactly, as before); with several, iss is read from the unverified payload only to choose a key set (the chosen
// parser verifies it again), and an iss that is not configured is refused without fetching anything.
func (v *Validator) pick(token string) (*issuerKeys, error) {
	if len(v.issuers) == 1 {
		return v.issuers[0], nil
	}
	iss, ok := peekIssuer(token)
	if !ok {
		return nil, &ValidationError{Reason: ReasonMalformed, Err: jwt.ErrTokenMalformed}
	}
	if ik, found := v.byIssuer[iss]; found {
		return ik, nil
	}
	return nil, &ValidationError{Reason: ReasonBadIssuer, Got: truncate(iss), Err: jwt.ErrTokenInvalidIssuer}
}
