package main

import (
	"errors"
	"fmt"

	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// explainTokensError words an error of pkg/tokens for the user. The library reports the facts (the URL it could
// not reach, the setting a request lacked) and names no flag; the CLI adds which flag or variable to change. run
// applies it to every command's error, so each path that reaches the tenant says the same; any other error is
// returned as it is.
func explainTokensError(err error) error {
	var (
		unr *tokens.UnreachableError
		bad *tokens.BadIssuerError
		doc *tokens.DiscoveryError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unr) && unr.What == "tenant":
		return fmt.Errorf("%w; is it running? set --issuer / ISSUER_URL", err)
	case errors.As(err, &unr):
		return fmt.Errorf("%w; is the tenant running? check --issuer / ISSUER_URL", err)
	case errors.As(err, &bad):
		return fmt.Errorf("%w: set --issuer / ISSUER_URL (e.g. http://localhost:4000/) or AUTH0_DOMAIN", err)
	case errors.As(err, &doc):
		return fmt.Errorf("%w; check --issuer / ISSUER_URL", err)
	case errors.Is(err, tokens.ErrNoClientID):
		return fmt.Errorf("%w: set --client-id or AUTH0_CLIENT_ID", err)
	case errors.Is(err, tokens.ErrNoClientSecret):
		return fmt.Errorf("%w: set --client-secret or AUTH0_CLIENT_SECRET", err)
	case errors.Is(err, tokens.ErrNoCacheDir):
		return fmt.Errorf("%w; set XDG_CACHE_HOME or use --no-cache", err)
	case errors.Is(err, tokens.ErrNotStandIn):
		return fmt.Errorf("%w (start one with client tenant and point --issuer at it)", err)
	}
	return err
}

// The tenant's refusal of a token request (a *tokens.TokenError) means a different fix in each flow, so each is
// worded where the CLI knows which flow it ran. A refusal the library could already explain (Hint) is left alone.

// explainCredentialsError says which of the client's settings a refused client-credentials request points at.
func explainCredentialsError(err error) error {
	te, ok := errors.AsType[*tokens.TokenError](err)
	if !ok || te.Hint != "" {
		return err
	}
	switch te.Code {
	case "invalid_client", "unauthorized_client", "access_denied":
		return fmt.Errorf("%w; check --client-id / AUTH0_CLIENT_ID, --client-secret / AUTH0_CLIENT_SECRET and "+
			"--audience / AUTH0_AUDIENCE", err)
	case "invalid_scope":
		return fmt.Errorf("%w; check --scope against the scopes granted to the client", err)
	}
	return err
}

// explainDeviceError says, for a client the device flow refused as clientID, that the flow needs a public
// client: the usual mistake is a confidential client's id.
func explainDeviceError(err error, clientID string) error {
	te, ok := errors.AsType[*tokens.TokenError](err)
	if !ok || te.Hint != "" || (te.Code != "invalid_client" && te.Code != "unauthorized_client") {
		return err
	}
	return fmt.Errorf("%w; the device flow needs a public (native) application and sends no client secret; "+
		"%q is not one: pass the --client-id / AUTH0_CLIENT_ID of a public client (the stand-in's is cli), "+
		"or drop --device to use client credentials with --client-secret", err, clientID)
}

// explainRefreshError says what to do when the tenant refused the login's refresh token: it is gone for good.
func explainRefreshError(err error) error {
	if te, ok := errors.AsType[*tokens.TokenError](err); ok && te.Code == "invalid_grant" {
		return fmt.Errorf("%w; run client login again", err)
	}
	return err
}
