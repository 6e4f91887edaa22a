// Package local holds the addresses of the whole stack on one machine (make run, docker compose up): the API, the
// stand-in tenant and the web app, and the quickstart API's identifier and scope. Every part's defaults start from these, so
// the parts agree on where the others are by construction, not by repeating literals.
package local

const (
	// APIPort is the API's default listening port, as in Auth0's API quickstarts.
	APIPort = 3010
	// APIURL is where the API answers on this machine (port APIPort).
	APIURL = "http://localhost:3010"

	// TenantAddr is where the stand-in tenant listens by default (loopback only).
	TenantAddr = "127.0.0.1:4000"
	// IssuerURL is the stand-in tenant's issuer as this machine reaches it (port of TenantAddr).
	IssuerURL = "http://localhost:4000/"
	// IssuerURLTLS is IssuerURL when the tenant serves HTTPS.
	IssuerURLTLS = "https://localhost:4000/"

	// AppAddr is where the web app listens by default (loopback only).
	AppAddr = "127.0.0.1:3000"
	// AppOrigin is the web app's browser origin (port of AppAddr): the API's default CORS origin.
	AppOrigin = "http://localhost:3000"

	// Audience is the quickstart API's identifier, the audience its tokens carry.
	Audience = "https://quickstarts/api"
	// Scope is the scope the quickstart API's scoped routes require.
	Scope = "read:messages"
)
