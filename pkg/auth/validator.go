package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// maxTokenBytes rejects absurd tokens before any decoding work; real access tokens are a few KiB at most.
const maxTokenBytes = 16 << 10

// Validator checks access tokens against the key sets of its issuers and, for DPoP-bound tokens, the proof of
// possession that comes with each request. It is safe for concurrent use.
type Validator struct {
	cfg      Config
	opts     options
	log      *slog.Logger
	hc       *http.Client
	issuers  []*issuerKeys
	byIssuer map[string]*issuerKeys
	interns  interns // the configured issuers and audiences, which decoded claims share instead of copying
	cache    *tokenCache
	metrics  *metrics
	dpop     *dpop.Verifier // nil when DPoP is disabled

	life   context.Context // ends with Close; bounds every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// New validates cfg and starts loading every issuer's key set in the background; it never waits on the network,
// so a server can start (and report not-ready) while a tenant is unreachable. Call Close to stop the background
// work.
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
		cfg:      cfg,
		opts:     o,
		log:      cfg.Logger.With("component", "auth"),
		hc:       httpClient(cfg.HTTPClient, cfg.AllowInsecure, o.httpTimeout, o.maxBodyBytes),
		metrics:  m,
		byIssuer: make(map[string]*issuerKeys, len(cfg.Issuers)),
		interns:  newInterns(cfg.Issuers, cfg.Audiences),
	}
	if cfg.CacheSize > 0 {
		v.cache = newTokenCache(cfg.CacheSize, m)
	}
	if cfg.DPoP.Mode != DPoPDisabled {
		v.dpop = dpop.NewVerifier(dpop.VerifierOptions{
			Algs:             cfg.DPoP.Algs,
			IATWindow:        cfg.DPoP.IATWindow,
			MaxReplayEntries: cfg.DPoP.MaxReplayEntries,
			Now:              o.now,
		})
	}
	v.life, v.cancel = context.WithCancel(ctx)
	for _, iss := range cfg.Issuers {
		ik, err := v.newIssuerKeys(iss)
		if err != nil {
			v.cancel()
			return nil, err
		}
		v.issuers = append(v.issuers, ik)
		v.byIssuer[iss] = ik
	}
	for _, ik := range v.issuers {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			v.load(v.life, ik)
		}()
	}
	return v, nil
}

// Ready reports whether every issuer's key set has loaded, i.e. whether every token this API is configured to
// accept can be judged. An issuer that never loads keeps the API not ready (a configuration to fix), rather than
// serving 503s to that issuer's clients behind a green readiness probe.
func (v *Validator) Ready() bool {
	for _, ik := range v.issuers {
		if !ik.keys.loaded() {
			return false
		}
	}
	return true
}

// Issuers are the trusted issuers, in configuration order (for resource metadata and logs).
func (v *Validator) Issuers() []string { return slices.Clone(v.cfg.Issuers) }

// Audiences are the accepted audiences, in configuration order.
func (v *Validator) Audiences() []string { return slices.Clone(v.cfg.Audiences) }

// Close stops loading and refreshing the key sets, including pending unknown-kid refetches. Validations keep
// working with the keys already loaded.
func (v *Validator) Close() error {
	v.closed.Do(func() {
		v.cancel()
		for _, ik := range v.issuers {
			ik.refetch.close()
		}
		v.wg.Wait()
	})
	return nil
}

// Validate verifies token (the compact JWS, without "Bearer ") as a bearer token and returns its claims. It knows
// nothing of HTTP: failures are *ValidationError (ErrKeysUnavailable, wrapped, means no key set has loaded yet),
// and the adapter turns them into answers and counts them. A DPoP-bound token (one with cnf) is refused here, as
// is any token when DPoP is required: those need ValidateRequest with a proof.
func (v *Validator) Validate(ctx context.Context, token string) (*Claims, error) {
	return v.ValidateCredential(ctx, Credential{Scheme: SchemeBearer, Token: token})
}

// validateToken checks the token itself (signature, claims), using and filling the verified-token cache. The
// cache holds only this: a DPoP proof is checked on every request, after it.
func (v *Validator) validateToken(ctx context.Context, token string) (*Claims, error) {
	var key uint64
	cacheable := v.cache != nil && len(token) <= maxCachedTokenBytes
	if cacheable {
		key = v.cache.key(token)
		if c, ok := v.cache.get(key, token, v.opts.now()); ok {
			return c, nil
		}
	}
	ik, err := v.pick(token)
	if err != nil {
		return nil, err
	}
	// A token that may be cached is decoded straight into its entry: one allocation for entry and claims.
	var e *cacheEntry
	var c *Claims
	if cacheable {
		e = &cacheEntry{}
		c = &e.claims
	} else {
		c = &Claims{}
	}
	pub, err := v.verify(ctx, ik, token, c)
	if err != nil {
		return nil, err
	}
	if cacheable {
		v.cache.add(key, token, e, v.opts.now(), v.opts.cacheMaxAge, ik.keys, pub)
	}
	return c, nil
}

// verify is the uncached path: parse, check headers, find the key, verify the signature, check the claims, which
// it decodes into claims. It returns the key that verified the token.
func (v *Validator) verify(ctx context.Context, ik *issuerKeys, token string, claims *Claims) (*rsa.PublicKey, error) {
	if len(token) > maxTokenBytes {
		return nil, &ValidationError{Reason: ReasonMalformed, Err: errTooLarge}
	}
	claims.interns = v.interns
	var kid string
	var key *rsa.PublicKey
	tok, err := ik.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		pub, id, err := v.key(ctx, ik, t)
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
		return nil, ve
	}
	claims.keyID = kid
	return key, nil
}

// key enforces the header rules and returns the RSA key named by kid, never one the token itself points at
// (jku, x5u, jwk and x5c are ignored).
func (v *Validator) key(ctx context.Context, ik *issuerKeys, t *jwt.Token) (*rsa.PublicKey, string, error) {
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
	if !ik.keys.loaded() {
		// Checked only once a key is needed, so a malformed or forged-alg token still gets its precise 401.
		return nil, kid, ErrKeysUnavailable
	}
	if vk, ok := ik.keys.lookup(kid); ok {
		if vk.pub == nil {
			return nil, kid, errBadKey
		}
		return vk.pub, vk.kid, nil
	}
	// Unknown kid: keyfunc reads the key set, whose KeyRead waits (at most unknownKIDWaitMax) for a refetch and
	// returns the key it then finds; that key is the one used, after the same RSA checks as every other key.
	raw, err := ik.kf.KeyfuncCtx(ctx)(t)
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
