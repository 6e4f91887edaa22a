package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tokencheck/tokencheck/pkg/auth"
)

// ResourceMetadataPath is where the protected resource metadata (RFC 9728 §3) is served; challenges point to it.
const ResourceMetadataPath = "/.well-known/oauth-protected-resource"

// resourceMetadata is the RFC 9728 §2 document; only members this API can vouch for are sent.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	DPoPAlgs               []string `json:"dpop_signing_alg_values_supported,omitempty"`
	DPoPBoundRequired      bool     `json:"dpop_bound_access_tokens_required,omitempty"`
}

// metadataHandler answers the document, encoded once: it changes only with the configuration. resource is
// resourceURL, else the first audience (the identifier clients request tokens for).
func metadataHandler(v *auth.Validator, resourceURL, scope string) gin.HandlerFunc {
	if v == nil {
		return unavailable
	}
	doc := resourceMetadata{
		Resource:               resourceURL,
		AuthorizationServers:   v.Issuers(),
		ScopesSupported:        []string{scope},
		BearerMethodsSupported: []string{"header"}, // never the query or a form body (RFC 6750 §2.2, §2.3)
		DPoPAlgs:               v.DPoPAlgs(),
		DPoPBoundRequired:      v.DPoPMode() == auth.DPoPRequired,
	}
	if doc.Resource == "" {
		if auds := v.Audiences(); len(auds) > 0 {
			doc.Resource = auds[0]
		}
	}
	body := mustJSON(doc)
	return func(c *gin.Context) { writeJSON(c, http.StatusOK, body) }
}
