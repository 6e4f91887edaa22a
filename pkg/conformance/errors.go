package conformance

import (
	"errors"
	"fmt"
	"strings"
)

// ErrConfig marks a Config that lacks what the suite needs (API, issuer, audience, a protected route).
var ErrConfig = errors.New("incomplete test configuration")

// ConfigError says which Config field the suite lacks: "API", "Issuer", "Audience" or "Paths" (no protected
// route). It is ErrConfig; the caller words what to set.
type ConfigError struct {
	Field string
}

func (e *ConfigError) Error() string {
	what := "no " + strings.ToLower(e.Field)
	switch e.Field {
	case "API":
		what = "no API URL"
	case "Paths":
		what = "no protected route (private or scoped)"
	}
	return fmt.Sprintf("%v: %s", ErrConfig, what)
}

// Is matches ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// UnreachableError says the API under test did not answer at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the API at %s: %v", e.URL, e.Err)
}

// Unwrap is the transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// NeedCredentialsError says the tenant is not the stand-in, so the suite needs a client to get tokens from it.
type NeedCredentialsError struct {
	Issuer, Scope, Audience string
}

func (e *NeedCredentialsError) Error() string {
	return fmt.Sprintf("the tenant at %s is not the stand-in (no mint_endpoint), so tokens come from client "+
		"credentials of a client granted %q on %s", e.Issuer, e.Scope, e.Audience)
}

// CredentialsError says getting a token with client credentials failed; NoScope marks the client without the
// scope.
type CredentialsError struct {
	Client  string
	NoScope bool
	Err     error
}

func (e *CredentialsError) Error() string {
	return fmt.Sprintf("get a token for client %q with client credentials: %v", e.Client, e.Err)
}

// Unwrap is the tenant's error.
func (e *CredentialsError) Unwrap() error { return e.Err }

// GrantError says a client's token holds the scope when it must not (NoScope) or lacks it when it must.
type GrantError struct {
	Client, Scope, Audience string
	NoScope                 bool
}

func (e *GrantError) Error() string {
	if e.NoScope {
		return fmt.Sprintf("the token for client %q grants %q, so it cannot test the 403 cases", e.Client, e.Scope)
	}
	return fmt.Sprintf("the token for client %q does not grant %q on %s", e.Client, e.Scope, e.Audience)
}

// TrapError says the tester's own key server could not listen.
type TrapError struct {
	Listen string
	Err    error
}

func (e *TrapError) Error() string {
	return fmt.Sprintf("start the key server for the jku/x5u cases on %q: %v", e.Listen, e.Err)
}

// Unwrap is the listen error.
func (e *TrapError) Unwrap() error { return e.Err }
