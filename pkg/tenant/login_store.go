package tenant

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Bounds and lifetimes of the login state. Codes are short-lived and single use (RFC 6749 §4.1.2 recommends at
// most ten minutes; a minute is plenty for a redirect); refresh tokens live as long as Auth0's default absolute
// lifetime. The caps keep a loop of logins from growing memory: codes are refused when full, and the oldest
// family of refresh tokens is dropped (its user signs in again).
const (
	authCodeTTL          = time.Minute
	refreshTTL           = 30 * 24 * time.Hour
	maxAuthCodes         = 1000
	maxGrantFamilies     = 10000
	maxRefreshGeneration = 100 // refresh tokens remembered per family for reuse detection; older ones are forgotten
)

// grant is what a user approved at /authorize: it travels from the code to every token issued from it.
type grant struct {
	clientID, username, audience, nonce string
	scopes                              []string // as requested: OIDC scopes and API scopes
	authTime                            time.Time
}

func (g grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

// authCode is one authorization code; a redeemed code is kept until it would have been swept, so a second use
// is recognised and revokes what the first issued (RFC 6749 §4.1.2).
type authCode struct {
	grant
	redirectURI, challenge string
	expires                time.Time
	used                   bool
	family                 string // set when redeemed
}

// family is everything issued from one code: its refresh tokens rotate within it, and its id is the sid claim
// of its access and ID tokens, so /userinfo refuses them once the family is revoked.
type family struct {
	grant
	created, expires time.Time
	tokens           []string // refresh tokens, oldest first; the last is the live one
}

// refreshEntry is one refresh token: the family it belongs to and whether it was already exchanged.
type refreshEntry struct {
	family string
	used   bool
}

// grantStore keeps authorization codes, grant families and refresh tokens under one lock, so redeeming a code and
// revoking its family cannot interleave.
type grantStore struct {
	mu       sync.Mutex
	codes    map[string]*authCode
	families map[string]*family
	refresh  map[string]*refreshEntry
}

func newGrantStore() *grantStore {
	return &grantStore{codes: map[string]*authCode{}, families: map[string]*family{}, refresh: map[string]*refreshEntry{}}
}

// sweep drops codes well past expiry and expired families. Caller holds mu.
func (s *grantStore) sweep(now time.Time) {
	for k, c := range s.codes {
		if now.After(c.expires.Add(authCodeTTL)) {
			delete(s.codes, k)
		}
	}
	for id, f := range s.families {
		if now.After(f.expires) {
			s.revokeLocked(id)
		}
	}
}

// newCode stores a code for g; false when the store is full of unexpired codes.
func (s *grantStore) newCode(now time.Time, g grant, redirectURI, challenge string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.codes) >= maxAuthCodes {
		s.sweep(now)
		if len(s.codes) >= maxAuthCodes {
			return "", false
		}
	}
	code := newID(32)
	s.codes[code] = &authCode{grant: g, redirectURI: redirectURI, challenge: challenge, expires: now.Add(authCodeTTL)}
	return code, true
}

// redeem exchanges a code for its grant, checking the client, the redirect URI and the PKCE verifier (RFC 7636
// §4.6), and starts the family its tokens belong to, with a first refresh token when offline_access was asked. A
// code used before revokes that first use's family. A wrong client, redirect URI or verifier leaves the code
// unused: whoever holds the code but not the verifier must not be able to burn it.
func (s *grantStore) redeem(now time.Time, code, clientID, redirectURI, verifier string) (g grant, familyID, refresh string, oerr *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	c, ok := s.codes[code]
	switch {
	case !ok:
		return grant{}, "", "", errInvalidGrant("unknown or expired authorization code; sign in again")
	case c.used:
		s.revokeLocked(c.family)
		return grant{}, "", "", errInvalidGrant("authorization code was already used; the tokens issued for it are revoked")
	case now.After(c.expires):
		return grant{}, "", "", errInvalidGrant("authorization code has expired (codes live " + authCodeTTL.String() + "); sign in again")
	case c.clientID != clientID:
		return grant{}, "", "", errInvalidGrant("authorization code was issued to another client")
	case c.redirectURI != redirectURI:
		return grant{}, "", "", errInvalidGrant("redirect_uri must be the one sent to /authorize")
	}
	if oerr := checkVerifier(c.challenge, verifier); oerr != nil {
		return grant{}, "", "", oerr
	}
	c.used = true
	c.family = s.newFamilyLocked(now, c.grant)
	f := s.families[c.family]
	if c.has("offline_access") {
		refresh = s.addRefreshLocked(c.family, f)
	}
	return c.grant, c.family, refresh, nil
}

// newFamilyLocked starts a family for g, dropping the oldest one when the store is full. Caller holds mu.
func (s *grantStore) newFamilyLocked(now time.Time, g grant) string {
	if len(s.families) >= maxGrantFamilies {
		oldest, first := "", time.Time{}
		for id, f := range s.families {
			if oldest == "" || f.created.Before(first) {
				oldest, first = id, f.created
			}
		}
		s.revokeLocked(oldest)
	}
	id := newID(16)
	s.families[id] = &family{grant: g, created: now, expires: now.Add(refreshTTL)}
	return id
}

// addRefreshLocked makes the family's next refresh token. Caller holds mu.
func (s *grantStore) addRefreshLocked(id string, f *family) string {
	tok := newID(32)
	s.refresh[tok] = &refreshEntry{family: id}
	f.tokens = append(f.tokens, tok)
	if len(f.tokens) > maxRefreshGeneration {
		delete(s.refresh, f.tokens[0])
		f.tokens = f.tokens[1:]
	}
	return tok
}

// rotate exchanges a refresh token for the next one of its family (RFC 9700 §4.14.2). A token used before
// revokes the whole family: either the client or an attacker holds a stolen copy, and the tenant cannot tell which.
// A non-empty scope narrows the returned grant; it must be within the family's, checked before the token is spent.
func (s *grantStore) rotate(now time.Time, token, clientID string, scope []string) (g grant, familyID, next string, oerr *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	e, ok := s.refresh[token]
	if !ok {
		return grant{}, "", "", errInvalidGrant("unknown, revoked or expired refresh token; sign in again")
	}
	f := s.families[e.family]
	switch {
	case f == nil:
		return grant{}, "", "", errInvalidGrant("unknown, revoked or expired refresh token; sign in again")
	case f.clientID != clientID:
		return grant{}, "", "", errInvalidGrant("refresh token was issued to another client")
	case e.used:
		s.revokeLocked(e.family)
		return grant{}, "", "", errInvalidGrant("refresh token was already used; every token of its login is revoked, sign in again")
	}
	g = f.grant
	if len(scope) > 0 {
		for _, sc := range scope {
			if !g.has(sc) {
				return grant{}, "", "", &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
					description: fmt.Sprintf("scope %q was not granted at sign-in", sc)}
			}
		}
		g.scopes = uniq(scope)
	}
	e.used = true
	return g, e.family, s.addRefreshLocked(e.family, f), nil
}

// revoke ends a family: its refresh tokens stop working and /userinfo refuses its access tokens.
func (s *grantStore) revoke(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(id)
}

func (s *grantStore) revokeLocked(id string) {
	f, ok := s.families[id]
	if !ok {
		return
	}
	for _, tok := range f.tokens {
		delete(s.refresh, tok)
	}
	delete(s.families, id)
}

// active reports whether the family a token's sid names is still live.
func (s *grantStore) active(now time.Time, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[id]
	return ok && !now.After(f.expires)
}

// checkVerifier is RFC 7636 §4.6: the verifier's S256 hash must be the challenge. A verifier without a challenge
// is refused too (RFC 9700 §2.1.1), so a downgrade cannot go unnoticed.
func checkVerifier(challenge, verifier string) *oauthError {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return errInvalidGrant("code_verifier was sent but the authorization request had no code_challenge")
	case verifier == "":
		return errInvalidGrant("code_verifier is required: the authorization request used PKCE")
	case !validVerifier(verifier):
		return errInvalidGrant("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return errInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// validVerifier is RFC 7636 §4.1's code_verifier syntax.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		if !isUnreserved(c) {
			return false
		}
	}
	return true
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func errInvalidGrant(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: desc}
}
