package tenant

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// authenticateClient finds the calling client by client_secret_basic, client_secret_post or (public clients)
// client_id alone, comparing secrets in constant time. Using two methods at once is an error (RFC 6749 §2.3).
func (t *Tenant) authenticateClient(r *http.Request, p map[string]string) (Client, *oauthError) {
	id, secret := p["client_id"], p["client_secret"]
	if authz := r.Header.Get("Authorization"); authz != "" {
		scheme, cred, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return Client{}, errInvalidClient("only HTTP Basic client authentication is accepted in the Authorization header")
		}
		if secret != "" {
			return Client{}, errInvalidRequest("use one client authentication method: HTTP Basic or client_secret in the body, not both")
		}
		bid, bsecret, err := parseBasic(cred)
		if err != nil {
			return Client{}, errInvalidClient(err.Error())
		}
		if id != "" && id != bid {
			return Client{}, errInvalidRequest("client_id in the body differs from the one in HTTP Basic")
		}
		id, secret = bid, bsecret
	}
	if id == "" {
		return Client{}, errInvalidClient("client authentication is required: client_id (and client_secret) in the body, or HTTP Basic")
	}
	c, known := t.clients[id]
	// Compare even for an unknown client so timing does not tell which ids exist.
	ok := secretsEqual(secret, c.Secret)
	switch {
	case known && c.Public && secret != "":
		// Public client ids are not secrets (every installed app carries one), so this can say what is wrong.
		return Client{}, errInvalidClient(fmt.Sprintf("client %q is public and has no secret; send only client_id", id))
	case known && c.Public:
		return c, nil
	case !known || !ok:
		// One answer for an unknown id, a missing secret and a wrong one, so the answer does not tell which ids
		// exist.
		return Client{}, errInvalidClient(clientAuthFailed(id))
	}
	return c, nil
}

// clientAuthFailed is the one description for every failed confidential client authentication; it repeats only
// the id the caller sent, so it tells nothing the caller did not know.
func clientAuthFailed(id string) string {
	return fmt.Sprintf("client authentication failed for client_id %q: unknown client, or missing or wrong client_secret", truncate(id, 100))
}

// parseBasic decodes HTTP Basic credentials whose parts are form-urlencoded, as RFC 6749 §2.3.1 requires.
func parseBasic(cred string) (id, secret string, err error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", fmt.Errorf("malformed HTTP Basic credentials: not base64")
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", fmt.Errorf("malformed HTTP Basic credentials: no colon between client id and secret")
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", fmt.Errorf("malformed HTTP Basic client id: %w", err)
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", fmt.Errorf("malformed HTTP Basic client secret: %w", err)
	}
	return id, secret, nil
}

// secretsEqual compares two secrets in constant time; hashing first hides their lengths too.
func secretsEqual(given, want string) bool {
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}
