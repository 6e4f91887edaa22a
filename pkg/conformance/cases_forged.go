package conformance

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// forgedCases are tokens anyone can build without the issuer's keys: every one must get 401 invalid_token.
func forgedCases() []Case {
	var cs []Case
	invalid := Expect{Status: http.StatusUnauthorized, Error: "invalid_token"}
	add := func(name, why string, forge func(ctx context.Context, env *Env, h, c map[string]any) (string, error)) {
		cs = append(cs, Case{
			Name: name, Category: Forged, Severity: Critical, Why: why, Expect: invalid,
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				h, c, err := tokens.DecodeUnverified(env.ScopedToken)
				if err != nil {
					return httpcall.Request{}, skipf("the tenant's token is not a JWT")
				}
				tok, err := forge(ctx, env, h, c)
				return request(env, env.Paths.Private, bearer(tok)), err
			},
		})
	}

	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		add("alg-"+alg, "alg "+alg+" lets anyone write a token the API accepts without a signature",
			func(_ context.Context, _ *Env, h, c map[string]any) (string, error) {
				return compact(with(h, map[string]any{"alg": alg}), c, nil), nil
			})
	}
	add("alg-none-signature-kept", "an unsigned token must not pass because some signature bytes are attached",
		func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
			_, _, sig := parts(env.ScopedToken)
			return segment(with(h, map[string]any{"alg": "none"})) + "." + segment(c) + "." + sig, nil
		})
	add("signature-empty", "a token with an empty signature is unsigned",
		func(_ context.Context, env *Env, _, _ map[string]any) (string, error) {
			h, c, _ := parts(env.ScopedToken)
			return h + "." + c + ".", nil
		})
	add("signature-truncated", "a verifier that checks only part of the signature accepts forgeries",
		func(_ context.Context, env *Env, _, _ map[string]any) (string, error) {
			h, c, s := parts(env.ScopedToken)
			return h + "." + c + "." + s[:len(s)/2], nil
		})
	add("signature-missing", "a two-part token has no signature at all",
		func(_ context.Context, env *Env, _, _ map[string]any) (string, error) {
			h, c, _ := parts(env.ScopedToken)
			return h + "." + c, nil
		})
	add("payload-altered", "a signature must cover the claims, or anyone can grant themselves any scope",
		func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
			_, _, sig := parts(env.ScopedToken)
			altered := with(c, map[string]any{"sub": "attacker@clients", "scope": env.Scope + " admin"})
			return segment(h) + "." + segment(altered) + "." + sig, nil
		})

	for _, form := range []string{"pem", "pem-pkcs1", "der", "jwk"} {
		add("hs256-public-key-"+form,
			"HS256 keyed with the published public key ("+form+") lets anyone sign tokens: algorithm confusion",
			func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
				if env.issuerKey == nil {
					return "", skipf("the token's kid %q is not an RSA key in the tenant's JWKS", env.kid)
				}
				secret := keyForms(env.issuerKey)[form]
				return sign(jwt.SigningMethodHS256, with(h, map[string]any{"alg": "HS256"}), c, secret)
			})
	}
	for _, secret := range []string{"", "secret", "your-256-bit-secret", "changeme"} {
		name := "hs256-secret-" + secret
		if secret == "" {
			name = "hs256-secret-blank"
		}
		add(name, fmt.Sprintf("an HS256 token keyed with %q is signed with a secret anyone can guess", secret),
			func(_ context.Context, _ *Env, h, c map[string]any) (string, error) {
				return sign(jwt.SigningMethodHS256, with(h, map[string]any{"alg": "HS256"}), c, []byte(secret))
			})
	}
	add("foreign-key-real-kid", "a token signed by any RSA key under the issuer's kid must not verify",
		func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
			key, err := attackerKey()
			if err != nil {
				return "", err
			}
			return sign(jwt.SigningMethodRS256, with(h, map[string]any{"alg": "RS256", "kid": env.kid}), c, key)
		})
	add("embedded-jwk", "a key embedded in the token's own jwk header lets the attacker choose the key",
		func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
			if env.Trap == nil {
				return "", skipf("needs the trap key server")
			}
			return sign(jwt.SigningMethodRS256, with(h, map[string]any{
				"alg": "RS256", "kid": env.Trap.Kid, "jwk": env.Trap.PublicJWK(),
			}), c, env.Trap.Key)
		})
	add("embedded-x5c", "a certificate embedded in the token's own x5c header lets the attacker choose the key",
		func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
			if env.Trap == nil {
				return "", skipf("needs the trap key server")
			}
			return sign(jwt.SigningMethodRS256, with(h, map[string]any{
				"alg": "RS256", "kid": env.Trap.Kid, "x5c": []string{base64.StdEncoding.EncodeToString(env.Trap.CertDER())},
			}), c, env.Trap.Key)
		})
	cs = append(cs,
		trapCase("jku-attacker-url", "jku", "a key set URL in the token's jku header lets the attacker choose the key",
			func(t *Trap, name string, h, c map[string]any) (map[string]any, map[string]any) {
				return with(h, map[string]any{"jku": t.JWKSURL(name)}), c
			}),
		trapCase("x5u-attacker-url", "x5u", "a certificate URL in the token's x5u header lets the attacker choose the key",
			func(t *Trap, name string, h, c map[string]any) (map[string]any, map[string]any) {
				return with(h, map[string]any{"x5u": t.CertURL(name)}), c
			}),
		trapCase("iss-attacker-discovery", "issuer",
			"the API trusts keys from the token's own iss: anyone who runs an issuer signs tokens it accepts",
			func(t *Trap, name string, h, c map[string]any) (map[string]any, map[string]any) {
				return h, with(c, map[string]any{"iss": t.IssuerURL(name)})
			}),
	)
	add("kid-path-traversal", "a kid used as a file path lets the attacker pick an empty file as the HMAC key",
		func(_ context.Context, _ *Env, h, c map[string]any) (string, error) {
			return sign(jwt.SigningMethodHS256, with(h, map[string]any{
				"alg": "HS256", "kid": "../../../../../../../../dev/null",
			}), c, []byte{})
		})
	add("kid-sql-injection", "a kid pasted into a query lets the attacker choose the key the lookup returns",
		func(_ context.Context, _ *Env, h, c map[string]any) (string, error) {
			return sign(jwt.SigningMethodHS256, with(h, map[string]any{
				"alg": "HS256", "kid": "x' UNION SELECT 'attacker-key'-- ",
			}), c, []byte("attacker-key"))
		})
	add("es256-psychic-signature", "ES256 with r=s=0 verifies on broken ECDSA code (CVE-2022-21449)",
		func(_ context.Context, env *Env, h, c map[string]any) (string, error) {
			return compact(with(h, map[string]any{"alg": "ES256", "kid": env.kid}), c, make([]byte, 64)), nil
		})

	garbage := func(name, why string, value func(env *Env) string) {
		cs = append(cs, Case{
			Name: name, Category: Forged, Severity: Critical, Why: why,
			Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusBadRequest}},
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, http.Header{"Authorization": {value(env)}}), nil
			},
		})
	}
	garbage("header-not-json", "a token whose header is not JSON must be rejected, never crash the API",
		func(_ *Env) string {
			return "Bearer " + b64([]byte("not json")) + "." + b64([]byte("{}")) + "." + b64([]byte("sig"))
		})
	garbage("header-bad-types", "a header with values of the wrong JSON type must be rejected, never crash the API",
		func(env *Env) string {
			_, c, s := parts(env.ScopedToken)
			return "Bearer " + b64([]byte(`{"alg":42,"kid":["a"],"typ":{}}`)) + "." + c + "." + s
		})
	garbage("bad-base64", "a token that is not base64url must be rejected, never crash the API",
		func(_ *Env) string { return "Bearer !!!.@@@.###" })
	garbage("many-segments", "a token with too many segments must be rejected, never crash the API",
		func(env *Env) string { return "Bearer " + env.ScopedToken + ".a.b" })
	garbage("binary-bytes", "bytes outside ASCII must be rejected, never crash the API",
		func(_ *Env) string {
			var b strings.Builder
			for i := 0x80; i <= 0xff; i++ {
				b.WriteByte(byte(i))
			}
			return "Bearer " + b.String()
		})
	cs = append(cs, Case{
		Name: "oversized-token", Category: Forged, Severity: Critical,
		Why: "a 32 KiB token must be refused with a 4xx, never exhaust or crash the API",
		Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token",
			Also: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusRequestHeaderFieldsTooLarge}},
		Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
			h, _, s := parts(env.ScopedToken)
			return request(env, env.Paths.Private, bearer(h+"."+strings.Repeat("A", 32<<10)+"."+s)), nil
		},
	})
	return cs
}

// trapCase points a token at the trap (a jku or x5u header, or an iss whose discovery document the trap serves),
// signs it with the trap key, and proves the API never fetched from the trap.
func trapCase(name, kind, why string, point func(t *Trap, name string, h, c map[string]any) (map[string]any, map[string]any)) Case {
	return Case{
		Name: name, Category: Forged, Severity: Critical, Why: why,
		Expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token"},
		Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
			if env.Trap == nil {
				return httpcall.Request{}, skipf("needs the trap key server")
			}
			h, c, err := tokens.DecodeUnverified(env.ScopedToken)
			if err != nil {
				return httpcall.Request{}, skipf("the tenant's token is not a JWT")
			}
			h, c = point(env.Trap, name, with(h, map[string]any{"alg": "RS256", "kid": env.Trap.Kid}), c)
			tok, err := sign(jwt.SigningMethodRS256, h, c, env.Trap.Key)
			return request(env, env.Paths.Private, bearer(tok)), err
		},
		Check: func(_ context.Context, env *Env, _ *httpcall.Response) (string, error) {
			if n := env.Trap.Hits(name); n > 0 {
				return "", fmt.Errorf("the API fetched the attacker's %s URL (%d request(s)): it looks up keys named by the token", kind, n)
			}
			if ok, why := env.Trap.Conclusive(env.API, env.Issuer); !ok {
				return "never fetched, " + why + "; " + env.Names.trapFix(), nil
			}
			return "never fetched", nil
		},
	}
}
