package tenant

import "net/http"

// discovery is the OIDC / RFC 8414 metadata document. Only what the tenant really does is advertised.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	JWKSURI                           string   `json:"jwks_uri"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	MintEndpoint                      string   `json:"mint_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
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
		MintEndpoint:                      base + PathMint[1:],
		GrantTypesSupported:               []string{grantClientCredentials, grantDeviceCode},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic", "none"},
		ScopesSupported:                   uniq(scopes),
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ClaimsSupported:                   []string{"iss", "sub", "aud", "iat", "exp", "scope", "azp", "gty", "jti"},
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
