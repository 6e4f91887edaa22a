package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tokencheck/tokencheck/pkg/dpop"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// PathResourceMetadata is where RFC 9728 §3 puts a protected resource's metadata.
const PathResourceMetadata = "/.well-known/oauth-protected-resource"

// ResourceMetadata is the part of an RFC 9728 protected resource metadata document the suite reads.
type ResourceMetadata struct {
	Resource              string   `json:"resource"`
	AuthorizationServers  []string `json:"authorization_servers"`
	ScopesSupported       []string `json:"scopes_supported"`
	BearerMethods         []string `json:"bearer_methods_supported"`
	DPoPAlgs              []string `json:"dpop_signing_alg_values_supported"`
	DPoPBoundTokensNeeded bool     `json:"dpop_bound_access_tokens_required"`
}

// dpopEnv is what the dpop cases share: the tester's proof key, a token bound to it, and a second key that the
// token is not bound to (a thief's).
type dpopEnv struct {
	key      crypto.Signer // the bound key; the jwk-private case publishes its private part
	signer   *dpop.Signer
	thief    *dpop.Signer
	bound    string // a valid token with Scope and cnf.jkt of signer
	required bool   // the metadata says every token must be DPoP-bound
	// skip, when set, is why the dpop cases cannot run here.
	skip string
}

// fetchResourceMetadata reads the API's RFC 9728 document; (nil, nil) when it publishes none (any non-200).
func fetchResourceMetadata(ctx context.Context, hc *http.Client, api string) (*ResourceMetadata, error) {
	resp, err := doPatiently(ctx, hc, httpcall.Request{Method: http.MethodGet, URL: strings.TrimSuffix(api, "/") + PathResourceMetadata}, nil)
	if err != nil {
		return nil, err //nolint:wrapcheck // httpcall's errors name the URL
	}
	if resp.Status != http.StatusOK {
		return nil, nil
	}
	return decodeResourceMetadata(resp)
}

// decodeResourceMetadata reads a metadata answer: a JSON object (RFC 9728 §3.2).
func decodeResourceMetadata(resp *httpcall.Response) (*ResourceMetadata, error) {
	var md ResourceMetadata
	if err := json.Unmarshal(resp.Body, &md); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %w", PathResourceMetadata, err)
	}
	return &md, nil
}

// prepareDPoP decides whether the dpop cases run and, if so, makes their keys and bound token. They run when the
// API's metadata lists DPoP algorithms or when forced (Config.DPoP); the bound token needs the stand-in tenant.
func (e *Env) prepareDPoP(ctx context.Context, forced bool) error {
	d := &dpopEnv{}
	e.DPoP = d
	if e.Metadata != nil {
		d.required = e.Metadata.DPoPBoundTokensNeeded
	}
	advertised := e.Metadata != nil && len(e.Metadata.DPoPAlgs) > 0
	if !advertised && !forced {
		d.skip = e.Names.dpopUnadvertised()
		return nil
	}
	if e.Minter == nil {
		d.skip = "needs the stand-in tenant, to mint tokens bound to the tester's key"
		return nil
	}
	alg := "ES256"
	if advertised && !slices.Contains(e.Metadata.DPoPAlgs, alg) {
		for _, a := range e.Metadata.DPoPAlgs {
			if dpop.Supported(a) {
				alg = a
				break
			}
		}
	}
	var err error
	if d.key, err = newProofKey(alg); err != nil {
		return err
	}
	if d.signer, err = dpop.NewSigner(d.key, dpop.WithAlg(alg)); err != nil {
		return fmt.Errorf("DPoP proof key: %w", err)
	}
	thiefKey, err := newProofKey(alg)
	if err != nil {
		return err
	}
	if d.thief, err = dpop.NewSigner(thiefKey, dpop.WithAlg(alg)); err != nil {
		return fmt.Errorf("DPoP proof key: %w", err)
	}
	if d.bound, err = e.mint(ctx, nil, map[string]any{"scope": e.Scope, "cnf": map[string]any{"jkt": d.signer.Thumbprint()}}); err != nil {
		return fmt.Errorf("mint a DPoP-bound token: %w", err)
	}
	return nil
}

// newProofKey makes a key for alg: P-256/384/521 for ES256/384/512, RSA 2048 for RS* and PS*.
func newProofKey(alg string) (crypto.Signer, error) {
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case "ES384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, fmt.Errorf("generate a DPoP proof key for %s: %w", alg, err)
	}
	return k, nil
}

// dpopReady is the skip reason of a dpop case, nil when the cases can run.
func (e *Env) dpopReady() error {
	switch {
	case e.DPoP == nil:
		return skipf("DPoP was not prepared")
	case e.DPoP.skip != "":
		return skipf("%s", e.DPoP.skip)
	}
	return nil
}

// dpopHeader is "Authorization: DPoP <token>" with the given proofs (none, one, or several DPoP headers).
func dpopHeader(token string, proofs ...string) http.Header {
	h := http.Header{"Authorization": {"DPoP " + token}}
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	return h
}
