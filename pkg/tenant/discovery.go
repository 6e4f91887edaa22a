package tenant

import (
	"net/http"
	"slices"
)

// discovery is the OIDC / RFC 8414 metadata document. Only what the tenant really does is advertised.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	JWKSURI                           string   `json:"jwks_uri"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	MintEndpoint                      string   `json:"mint_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

// serveDiscovery answers both well-known paths. issuer is always Options.Issuer; the endpoint URLs follow the
// request's scheme and Host so the same tenant works inside and outside a container network.
func (t *Tenant) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	base := t.baseURL(r)
	var scopes []string
	for _, a := range t.apiOrder {
		scopes = append(scopes, a.Scopes...)
	}
	w.Header().Set("Cache-Control", "public, max-age=15")
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                            t.issuer,
		JWKSURI:                           base + PathJWKS[1:],
		TokenEndpoint:                     base + PathToken[1:],
		DeviceAuthorizationEndpoint:       base + PathDeviceCode[1:],
		AuthorizationEndpoint:             base + PathAuthorize[1:],
		UserinfoEndpoint:                  base + PathUserinfo[1:],
		EndSessionEndpoint:                base + PathOIDCLogout[1:],
		MintEndpoint:                      base + PathMint[1:],
		GrantTypesSupported:               grantTypes,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic", "none"},
		ScopesSupported:                   uniq(append(slices.Clone(oidcScopes), scopes...)),
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ClaimsSupported: []string{"iss", "sub", "aud", "iat", "exp", "scope", "azp", "gty", "jti",
			"auth_time", "nonce", "at_hash", "sid", "name", "nickname", "email"},
	})
}

// uniq drops repeated strings, keeping the first occurrence's order.
func uniq(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
