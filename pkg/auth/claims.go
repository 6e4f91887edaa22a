package auth

import (
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the verified claims of an access token; typed so decoding needs no map. Treat them as read-only:
// cached validations hand the same value to every request presenting the same token.
type Claims struct {
	jwt.RegisteredClaims
	// Scope is the space-separated OAuth 2.0 scope claim.
	Scope string `json:"scope,omitempty"`
	// Permissions is Auth0's RBAC claim; its entries count as scopes.
	Permissions []string `json:"permissions,omitempty"`
	// Confirmation is the cnf claim (RFC 7800); non-nil means the token is bound to a key and is no bearer token.
	Confirmation *Confirmation `json:"cnf,omitempty"`

	keyID string
	// dates hold exp, nbf and iat for the pointers in RegisteredClaims: one allocation with the claims instead of
	// three of their own, which matters to the garbage collector once thousands of claims sit in the cache.
	dates [3]jwt.NumericDate
	// interns is read by UnmarshalJSON only (the validator's configured strings); decoded claims never keep it.
	interns interns
}

// Confirmation is a token's cnf claim: the key it is bound to.
type Confirmation struct {
	// JKT is the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1); empty for other confirmation methods.
	JKT string `json:"jkt,omitempty"`
}

// Bound reports whether the token carries a cnf claim, i.e. must be presented with proof of possession.
func (c *Claims) Bound() bool { return c.Confirmation != nil }

// KeyID is the kid of the key that verified the token, for logs and key-rotation diagnostics.
func (c *Claims) KeyID() string { return c.keyID }

// HasScope reports whether s is one of the token's scopes (the scope claim plus permissions), matched exactly so
// "read" never grants "read:messages".
func (c *Claims) HasScope(s string) bool {
	if s == "" {
		return false
	}
	rest := c.Scope
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] != ' ' {
			i++
		}
		if rest[:i] == s {
			return true
		}
		if i == len(rest) {
			break
		}
		rest = rest[i+1:]
	}
	return slices.Contains(c.Permissions, s)
}
