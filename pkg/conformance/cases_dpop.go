package conformance

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/dpop"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// dpopStale is how far from now the iat cases move a proof: beyond any sensible acceptance window (RFC 9449 §11.1
// leaves the window to the server; a few minutes at most is usual, 60 s common).
const dpopStale = 10 * time.Minute

// The answers RFC 9449 §7.1 asks for: a bad proof is invalid_dpop_proof in the DPoP challenge; where the RFC
// does not say which of invalid_dpop_proof and invalid_token applies (a key that is not the bound one, a token that
// is bound to nothing), any error code is accepted.
var (
	badProof       = Expect{Status: http.StatusUnauthorized, Error: "invalid_dpop_proof", Scheme: "DPoP"}
	dpopRefused    = Expect{Status: http.StatusUnauthorized, AnyError: true, Scheme: "DPoP"}
	dpopDowngraded = Expect{Status: http.StatusUnauthorized, Error: "invalid_token"}
)

// dpopCases check a resource server's handling of DPoP (RFC 9449): proofs bound to the request, the token and the
// key the token is bound to. They run when the API advertises DPoP in its RFC 9728 metadata, or with --dpop.
func dpopCases() []Case {
	// dpopRequest builds a GET of the private route with the headers header(env, url) gives, once the dpop cases
	// can run at all.
	dpopRequest := func(header func(env *Env, url string) (http.Header, error)) func(context.Context, *Env) (httpcall.Request, error) {
		return func(_ context.Context, env *Env) (httpcall.Request, error) {
			if err := env.dpopReady(); err != nil {
				return httpcall.Request{}, err
			}
			req := request(env, env.Paths.Private, nil)
			if req.URL == "" {
				return req, nil
			}
			h, err := header(env, req.URL)
			if err != nil {
				return req, err
			}
			req.Header = h
			return req, nil
		}
	}
	// proofFor is dpopRequest with the bound token and the one proof proof(env, url) makes.
	proofFor := func(proof func(env *Env, url string) (string, error)) func(context.Context, *Env) (httpcall.Request, error) {
		return dpopRequest(func(env *Env, url string) (http.Header, error) {
			p, err := proof(env, url)
			if err != nil {
				return nil, err
			}
			return dpopHeader(env.DPoP.bound, p), nil
		})
	}
	good := func(env *Env, url string) (string, error) {
		return env.DPoP.signer.Proof(http.MethodGet, url, env.DPoP.bound)
	}
	cases := []Case{
		{
			Name: "valid", Severity: Medium,
			Why:   "the API refuses a DPoP-bound token with a correct proof (RFC 9449 §7.1): DPoP clients cannot use it",
			Build: proofFor(good), Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "no-proof", Severity: High,
			Why: "a DPoP-bound token works without any proof: whoever steals it can use it, which is what DPoP " +
				"exists to prevent",
			Build:  dpopRequest(func(env *Env, _ string) (http.Header, error) { return dpopHeader(env.DPoP.bound), nil }),
			Expect: dpopRefused,
		},
		{
			Name: "downgrade-to-bearer", Severity: Critical,
			Why: "a DPoP-bound token is accepted as a plain Bearer token: a thief skips the proof altogether " +
				"(RFC 9449 §7.2 requires refusing it)",
			Build:  dpopRequest(func(env *Env, _ string) (http.Header, error) { return bearer(env.DPoP.bound), nil }),
			Expect: dpopDowngraded,
		},
		{
			Name: "key-not-bound", Severity: Critical,
			Why: "a proof signed by a key other than the one the token is bound to (cnf.jkt) is accepted: a thief " +
				"proves possession of their own key and uses the stolen token",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return env.DPoP.thief.Proof(http.MethodGet, url, env.DPoP.bound)
			}),
			Expect: dpopRefused,
		},
		{
			Name: "htm-mismatch", Severity: High,
			Why: "a proof made for another HTTP method is accepted: one captured proof serves any request " +
				"(RFC 9449 §4.3 check 8)",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return env.DPoP.signer.Proof(http.MethodPost, url, env.DPoP.bound)
			}),
			Expect: badProof,
		},
		{
			Name: "htu-mismatch", Severity: High,
			Why: "a proof made for another URL is accepted: a proof captured at one endpoint works at every other " +
				"(RFC 9449 §4.3 check 9)",
			Build: proofFor(func(env *Env, _ string) (string, error) {
				return env.DPoP.signer.Proof(http.MethodGet, env.URL("/tokencheck-elsewhere"), env.DPoP.bound)
			}),
			Expect: badProof,
		},
		{
			Name: "htu-with-query", Severity: Low,
			Why: "a proof whose htu carries a query is accepted; RFC 9449 §4.2 defines htu without query and " +
				"fragment",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return signProof(env, nil, map[string]any{"htu": url + "?tokencheck=1"})
			}),
			// §4.3 check 9 compares "ignoring any query and fragment parts", which a server may read as stripping
			// them from the claim too: accepting is a legitimate reading.
			Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_dpop_proof", Scheme: "DPoP", Also: []int{http.StatusOK}},
			Check: func(_ context.Context, _ *Env, resp *httpcall.Response) (string, error) {
				if resp.Status == http.StatusOK {
					return "the API ignores the query in the proof's htu, a legitimate reading of RFC 9449 §4.3 check 9", nil
				}
				return "", nil
			},
		},
		{
			Name: "iat-stale", Severity: Medium,
			Why: "a proof issued 10 minutes ago is accepted: captured proofs stay usable long after (RFC 9449 " +
				"§4.3 check 10, §11.1)",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return env.DPoP.signer.Proof(http.MethodGet, url, env.DPoP.bound, dpop.WithIssuedAt(time.Now().Add(-dpopStale)))
			}),
			Expect: badProof,
		},
		{
			Name: "iat-future", Severity: Medium,
			Why: "a proof issued 10 minutes in the future is accepted: a client can make proofs that stay valid " +
				"long after they are captured",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return env.DPoP.signer.Proof(http.MethodGet, url, env.DPoP.bound, dpop.WithIssuedAt(time.Now().Add(dpopStale)))
			}),
			Expect: badProof,
		},
		{
			Name: "jti-replayed", Severity: Medium,
			Why: "the same proof is accepted twice: a captured request can be replayed within the iat window " +
				"(RFC 9449 §4.3 check 11)",
			Expect: badProof,
			Steps: func(_ context.Context, env *Env) ([]Step, error) {
				if err := env.dpopReady(); err != nil {
					return nil, err
				}
				req := request(env, env.Paths.Private, nil)
				if req.URL == "" {
					return []Step{{Request: req}}, nil
				}
				p, err := env.DPoP.signer.Proof(http.MethodGet, req.URL, env.DPoP.bound)
				if err != nil {
					return nil, err
				}
				first := request(env, env.Paths.Private, dpopHeader(env.DPoP.bound, p))
				again := request(env, env.Paths.Private, dpopHeader(env.DPoP.bound, p))
				return []Step{
					{Label: "a fresh proof", Request: first, Expect: Expect{Status: http.StatusOK}},
					{Label: "the same proof again", Request: again, Expect: badProof},
				}, nil
			},
		},
		{
			Name: "ath-missing", Severity: Medium,
			Why: "a proof without ath is accepted with a token: the proof is not tied to the token it comes with " +
				"(RFC 9449 §7, §4.3 check 12)",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return env.DPoP.signer.Proof(http.MethodGet, url, "")
			}),
			Expect: badProof,
		},
		{
			Name: "ath-wrong", Severity: Medium,
			Why: "a proof whose ath is the hash of another token is accepted: proofs can be swapped between tokens " +
				"(RFC 9449 §7)",
			Build: proofFor(func(env *Env, url string) (string, error) {
				return env.DPoP.signer.Proof(http.MethodGet, url, env.ScopedToken)
			}),
			Expect: badProof,
		},
		{
			Name: "alg-none", Severity: Critical,
			Why: "an unsigned proof (alg none) is accepted: anyone can make proofs for any key, so a stolen token " +
				"works without its key",
			Build: proofFor(func(env *Env, url string) (string, error) {
				h := proofHeaderFor(env, map[string]any{"alg": "none"})
				return compact(h, proofClaims(env, url), nil), nil
			}),
			Expect: badProof,
		},
		{
			Name: "alg-hs256", Severity: Critical,
			Why: "a proof signed with HMAC (HS256) is accepted: a symmetric signature proves nothing about the " +
				"bound key (RFC 9449 §4.3 check 5)",
			Build: proofFor(func(env *Env, url string) (string, error) {
				h := proofHeaderFor(env, map[string]any{"alg": "HS256"})
				return sign(jwt.SigningMethodHS256, h, proofClaims(env, url), []byte("tokencheck-not-a-key"))
			}),
			Expect: badProof,
		},
		{
			Name: "jwk-private", Severity: Medium,
			Why: "a proof whose jwk holds the private key is accepted: RFC 9449 §4.3 check 6 requires a public key, " +
				"and such a client has leaked its key",
			Build: proofFor(func(env *Env, url string) (string, error) {
				jwk := env.DPoP.signer.PublicJWK()
				if err := addPrivateMembers(jwk, env.DPoP.key); err != nil {
					return "", err
				}
				return signProof(env, map[string]any{"jwk": jwk}, nil)
			}),
			Expect: badProof,
		},
		{
			Name: "typ-jwt", Severity: Medium,
			Why: "a proof typed JWT instead of dpop+jwt is accepted: another JWT signed by the client's key can " +
				"pass as a proof (RFC 9449 §4.3 check 4)",
			Build: proofFor(func(env *Env, _ string) (string, error) {
				return signProof(env, map[string]any{"typ": "JWT"}, nil)
			}),
			Expect: badProof,
		},
		{
			Name: "two-proofs", Severity: Medium,
			Why: "a request with two DPoP headers is accepted: which proof was checked is anyone's guess " +
				"(RFC 9449 §4.3 check 1)",
			Build: dpopRequest(func(env *Env, url string) (http.Header, error) {
				a, err := env.DPoP.signer.Proof(http.MethodGet, url, env.DPoP.bound)
				if err != nil {
					return nil, err
				}
				b, err := env.DPoP.thief.Proof(http.MethodGet, url, env.DPoP.bound)
				if err != nil {
					return nil, err
				}
				return dpopHeader(env.DPoP.bound, a, b), nil
			}),
			Expect: Expect{Status: http.StatusUnauthorized, AnyError: true, Scheme: "DPoP", Also: []int{http.StatusBadRequest}},
		},
		{
			Name: "unbound-token-as-dpop", Severity: Medium,
			Why: "a token bound to no key passes with the DPoP scheme and a proof: the API does not compare the " +
				"proof's key with the token's cnf.jkt (RFC 9449 §7.1)",
			Build: dpopRequest(func(env *Env, url string) (http.Header, error) {
				p, err := env.DPoP.signer.Proof(http.MethodGet, url, env.ScopedToken)
				if err != nil {
					return nil, err
				}
				return dpopHeader(env.ScopedToken, p), nil
			}),
			Expect: dpopRefused,
		},
		{
			Name: "bearer-when-required", Severity: High,
			Why: "the API says every token must be DPoP-bound (dpop_bound_access_tokens_required) yet accepts an " +
				"unbound Bearer token",
			Build: dpopRequest(func(env *Env, _ string) (http.Header, error) {
				if !env.DPoP.required {
					return nil, skipf("the API's metadata does not require DPoP-bound tokens")
				}
				return bearer(env.ScopedToken), nil
			}),
			// Such an API sends the DPoP challenge alone (RFC 9449 §7.1): Bearer is not a way in.
			Expect: Expect{Status: http.StatusUnauthorized, AnyError: true, Scheme: "DPoP"},
		},
	}
	for i := range cases {
		cases[i].NeedsKey = true // the bound token is minted by the stand-in tenant
	}
	return cases
}

// proofHeaderFor is a proof header for the bound key with set applied (nil values remove members).
func proofHeaderFor(env *Env, set map[string]any) map[string]any {
	return with(map[string]any{"typ": "dpop+jwt", "alg": env.DPoP.signer.Alg(), "jwk": env.DPoP.signer.PublicJWK()}, set)
}

// proofClaims are a correct proof's claims for a GET of url with the bound token.
func proofClaims(env *Env, url string) map[string]any {
	return map[string]any{
		"jti": rand.Text(), "htm": http.MethodGet, "htu": url, "iat": time.Now().Unix(),
		"ath": dpop.ATH(env.DPoP.bound),
	}
}

// signProof signs a proof for the private route with the bound key, its header and claims changed by the maps.
func signProof(env *Env, header, claims map[string]any) (string, error) {
	h := proofHeaderFor(env, header)
	c := with(proofClaims(env, env.URL(env.Paths.Private)), claims)
	method := jwt.GetSigningMethod(env.DPoP.signer.Alg())
	if method == nil {
		return "", skipf("no signer for %s", env.DPoP.signer.Alg())
	}
	return sign(method, h, c, env.DPoP.key)
}

// addPrivateMembers writes key's private part into jwk, as a careless client would publish it.
func addPrivateMembers(jwk map[string]any, key any) error {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			return skipf("cannot encode the proof key: %v", err)
		}
		jwk["d"] = enc(d)
	case *rsa.PrivateKey:
		jwk["d"] = enc(k.D.Bytes())
		if len(k.Primes) == 2 {
			jwk["p"], jwk["q"] = enc(k.Primes[0].Bytes()), enc(k.Primes[1].Bytes())
		}
	default:
		return skipf("unknown proof key type %T", key)
	}
	return nil
}
