package tokens

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/internal/atomicfile"
)

// DefaultMargin is how long before its expiry a cached token stops being reused, so it never expires in flight.
const DefaultMargin = 60 * time.Second

// CacheKey identifies one cached token: the same tenant, client, audience, scope and grant get the same token.
type CacheKey struct {
	Issuer   string
	ClientID string
	Audience string
	Scope    string
	Grant    string // "client_credentials", "device_code" or GrantUser
	// Secret is hashed into the file name only, so a changed secret never silently reuses the old secret's token.
	Secret string
	// DPoPKey is the thumbprint of the DPoP key a token is bound to, "" for a Bearer token: the two never mix.
	DPoPKey string
}

func (k CacheKey) file() string {
	h := sha256.New()
	for _, part := range []string{k.Issuer, k.ClientID, k.Audience, strings.Join(strings.Fields(k.Scope), " "), k.Grant, k.Secret} {
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	if k.DPoPKey != "" { // only then, so Bearer entries keep the names they had
		fmt.Fprintf(h, "dpop:%s\n", k.DPoPKey)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]) + ".json"
}

// Cache keeps tokens on disk between runs of the CLI, readable only by the user (dir 0700, files 0600).
type Cache struct {
	Dir    string
	Margin time.Duration    // zero means DefaultMargin
	Now    func() time.Time // nil means time.Now
}

// ErrNoCacheDir is DefaultCacheDir's answer when the platform names no cache directory for the user (no home),
// wrapped with the reason; the caller says how to give one or to do without.
var ErrNoCacheDir = errors.New("no cache directory")

// DefaultCacheDir is the user's cache directory for tokencheck: $XDG_CACHE_HOME/tokencheck when getenv gives
// XDG_CACHE_HOME, else os.UserCacheDir()/tokencheck.
func DefaultCacheDir(getenv func(string) string) (string, error) {
	if getenv != nil {
		if x := getenv("XDG_CACHE_HOME"); x != "" {
			return filepath.Join(x, "tokencheck"), nil
		}
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoCacheDir, err)
	}
	return filepath.Join(dir, "tokencheck"), nil
}

// cacheVersion is the format of a cache file; a file of another version is ignored and replaced.
const cacheVersion = 1

// maxCachedToken bounds a cached access token; real ones are a few KiB.
const maxCachedToken = 64 << 10

// cacheEntry is one cache file: the key it was written for (never the secret, which only names the file) and the
// token.
type cacheEntry struct {
	Version  int    `json:"version"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Audience string `json:"audience"`
	Scope    string `json:"scope"`
	Grant    string `json:"grant"`
	Token    *Token `json:"token"`
}

func entryFor(k CacheKey, t *Token) cacheEntry {
	return cacheEntry{Version: cacheVersion, Issuer: k.Issuer, ClientID: k.ClientID, Audience: k.Audience,
		Scope: normScope(k.Scope), Grant: k.Grant, Token: t}
}

func normScope(s string) string { return strings.Join(strings.Fields(s), " ") }

// ErrNotCached is Load's answer when there is no entry for the key.
var ErrNotCached = errors.New("no cached token")

// ErrCachedTokenExpiring is Load's answer for an entry whose token expires within the margin.
var ErrCachedTokenExpiring = errors.New("the cached token expires soon")

// CacheEntryError is a cache file Load refused to use (not a private regular file, malformed, written for another
// key, expired): the caller fetches a new token and Put replaces the file. Reason says why, for a one-line note.
type CacheEntryError struct {
	File   string
	Reason string
	Err    error // the underlying error, if any
}

// Error is the one-line note: which file was ignored and why (never its content).
func (e *CacheEntryError) Error() string {
	msg := "ignoring cached token " + e.File + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap gives the underlying error.
func (e *CacheEntryError) Unwrap() error { return e.Err }

// Get returns the cached token for k when one is still valid Margin from now. Anything Load refuses is a miss,
// never an error: the caller fetches a new token and Put replaces the file.
func (c *Cache) Get(k CacheKey) (*Token, bool) {
	t, err := c.Load(k)
	return t, err == nil
}

// Load returns the cached token for k, or why there is none: ErrNotCached, ErrCachedTokenExpiring or a
// *CacheEntryError. It trusts only a regular file of mode 0600 owned by the user, opened without following a
// symlink and without blocking (a FIFO planted in its place cannot hang the CLI), holding well-formed JSON of the
// expected shape, written for exactly this issuer, client, audience, scope and grant, with a token that is a JWT
// or a plain opaque string and expires after the margin.
func (c *Cache) Load(k CacheKey) (*Token, error) {
	t, err := c.LoadStale(k)
	if err != nil {
		return nil, err
	}
	if !t.Valid(c.now(), c.margin()) {
		return nil, ErrCachedTokenExpiring
	}
	return t, nil
}

// LoadStale is Load without the expiry check: a user's entry whose access token expired still holds the refresh
// token that renews it. Every other check applies.
func (c *Cache) LoadStale(k CacheKey) (*Token, error) {
	path := filepath.Join(c.Dir, k.file())
	bad := func(reason string, err error) (*Token, error) {
		return nil, &CacheEntryError{File: path, Reason: reason, Err: err}
	}
	data, reason, err := readPrivate(path, maxDocument)
	switch {
	case reason != "":
		return bad(reason, err)
	case errors.Is(err, os.ErrNotExist):
		return nil, ErrNotCached
	}
	var e cacheEntry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return bad("not a cache entry (malformed JSON or an older format)", nil)
	}
	if dec.More() {
		return bad("data after the JSON object", nil)
	}
	if reason := e.check(k); reason != "" {
		return bad(reason, nil)
	}
	return e.Token, nil
}

// check says what is wrong with an entry read for k, or "".
func (e *cacheEntry) check(k CacheKey) string {
	switch {
	case e.Version != cacheVersion:
		return fmt.Sprintf("format version %d, want %d", e.Version, cacheVersion)
	case e.Issuer != k.Issuer || e.ClientID != k.ClientID || e.Audience != k.Audience ||
		e.Scope != normScope(k.Scope) || e.Grant != k.Grant:
		return "written for another issuer, client, audience, scope or grant"
	case e.Token == nil || e.Token.AccessToken == "":
		return "no access token in it"
	case e.Token.Expiry.IsZero():
		return "no expiry in it"
	}
	for _, tok := range []string{e.Token.RefreshToken, e.Token.IDToken} {
		if reason := tokenShape(tok); reason != "" {
			return "refresh or ID token: " + reason
		}
	}
	return tokenShape(e.Token.AccessToken)
}

// tokenShape says why tok cannot be an access token, or "": a JWT must decode (header and claims), an opaque
// token must be printable ASCII without spaces, both within maxCachedToken.
func tokenShape(tok string) string {
	if len(tok) > maxCachedToken {
		return "the token is implausibly long"
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] >= 0x7f {
			return "the token holds spaces, control or non-ASCII characters"
		}
	}
	if strings.Count(tok, ".") == 2 {
		if _, _, err := DecodeUnverified(tok); err != nil {
			return "the token looks like a JWT but does not decode"
		}
	}
	return ""
}

// Put stores t for k atomically (a temporary file renamed into place), so a concurrent reader sees the old token or
// the new one, never half of either.
func (c *Cache) Put(k CacheKey, t *Token) error {
	if t == nil {
		return errors.New("cache: nil token")
	}
	if reason := tokenShape(t.AccessToken); reason != "" || t.AccessToken == "" {
		return fmt.Errorf("cache: not caching the token: %s", cmp.Or(reason, "it is empty"))
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create token cache %s: %w", c.Dir, err)
	}
	if err := os.Chmod(c.Dir, 0o700); err != nil { //nolint:gosec // a directory needs x for its owner; 0700 is owner-only
		return fmt.Errorf("restrict token cache %s: %w", c.Dir, err)
	}
	data, err := json.Marshal(entryFor(k, t)) //nolint:gosec // caching the token is the point; the file is 0600 in a 0700 dir
	if err != nil {
		return fmt.Errorf("encode token for cache: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(c.Dir, k.file()), data, 0o600); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	return nil
}

// Delete forgets the token for k (for example after an API rejected it).
func (c *Cache) Delete(k CacheKey) error {
	err := os.Remove(filepath.Join(c.Dir, k.file()))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cached token: %w", err)
	}
	return nil
}

// refreshLockWait bounds how long a run waits for another one refreshing the same login; that one's requests are
// bounded by their timeouts, so this is only reached when it hangs.
const refreshLockWait = 2 * time.Minute

// ErrRefreshLocked is lockRefresh's answer when another run held the login's lock for refreshLockWait.
var ErrRefreshLocked = errors.New("another run of the client is refreshing this login")

// lockRefresh takes the lock that lets one run at a time refresh k's login (a file beside its entry), waiting for
// it while ctx allows and at most refreshLockWait; unlock releases it.
func (c *Cache) lockRefresh(ctx context.Context, k CacheKey) (unlock func(), err error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create token cache %s: %w", c.Dir, err)
	}
	path := filepath.Join(c.Dir, strings.TrimSuffix(k.file(), ".json")+".lock")
	ctx, cancel := context.WithTimeout(ctx, refreshLockWait)
	defer cancel()
	unlock, err = lockFile(ctx, path)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w (lock %s held for %s)", ErrRefreshLocked, path, refreshLockWait)
	case err != nil:
		return nil, fmt.Errorf("lock the login for its refresh (%s): %w", path, err)
	}
	return unlock, nil
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) margin() time.Duration {
	if c.Margin > 0 {
		return c.Margin
	}
	return DefaultMargin
}

// readPrivate reads at most limit bytes of path, which must be a regular file of mode 0600 owned by the user (see
// openPrivate and checkPrivateFile). A missing file is an error wrapping os.ErrNotExist with no reason; any other
// problem is a reason to show the user, with the error behind it if any.
func readPrivate(path string, limit int) (data []byte, reason string, err error) {
	f, err := openPrivate(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, "", err //nolint:wrapcheck // the caller tests for os.ErrNotExist
	case err != nil:
		return nil, "cannot open it", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "cannot stat it", err
	}
	if reason := checkPrivateFile(st); reason != "" {
		return nil, reason, nil
	}
	data, err = io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, "cannot read it", err
	}
	if len(data) > limit {
		return nil, fmt.Sprintf("larger than %d bytes", limit), nil
	}
	return data, "", nil
}
