// Package tokens gets access tokens from an OAuth2/OIDC tenant (Auth0 or the stand-in): discovery, client
// credentials, the device flow and a user's login (authorization code with PKCE through a loopback redirect, and
// refresh) through golang.org/x/oauth2, a per-user token cache, and the stand-in tenant's
// development endpoints (mint, rotate). It also decodes a JWT for display without verifying it.
package tokens
