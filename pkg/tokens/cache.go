package tokens

import (
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
)

// DefaultMargin is how long before its expiry a cached token stops being reused, so it never expires in flight.
const DefaultMargin = 60 * time.Second

// CacheKey identifies one cached token: the same tenant, client, audience, scope and grant get the same token.
type CacheKey struct {
	Issuer   string
	ClientID string
	Audience string
	Scope    string
	Grant    string // "client_credentials" or "device_code"
	// Secret is hashed into the file name only, so a changed secret never silently reuses the old secret's token.
	Secret string
}

func (k CacheKey) file() string {
	h := sha256.New()
	for _, part := range []string{k.Issuer, k.ClientID, k.Audience, strings.Join(strings.Fields(k.Scope), " "), k.Grant, k.Secret} {
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]) + ".json"
}

// Cache keeps tokens on disk between runs of the CLI, readable only by the user (dir 0700, files 0600).
type Cache struct {
	Dir    string
	Margin time.Duration    // zero means DefaultMargin
	Now    func() time.Time // nil means time.Now
}

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
		return "", fmt.Errorf("no cache directory: %w; set XDG_CACHE_HOME or use --no-cache", err)
	}
	return filepath.Join(dir, "tokencheck"), nil
}

// Get returns the cached token for k when one is still valid Margin from now. A missing, unreadable, corrupt or
// expiring file is a miss, never an error: the caller fetches a new token and Put replaces the file.
func (c *Cache) Get(k CacheKey) (*Token, bool) {
	f, err := os.Open(filepath.Join(c.Dir, k.file()))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDocument))
	if err != nil {
		return nil, false
	}
	var t Token
	if json.Unmarshal(data, &t) != nil || !t.Valid(c.now(), c.margin()) {
		return nil, false
	}
	return &t, true
}

// Put stores t for k atomically (a temporary file renamed into place), so a concurrent reader sees the old token or
// the new one, never half of either.
func (c *Cache) Put(k CacheKey, t *Token) error {
	if t == nil {
		return errors.New("cache: nil token")
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create token cache %s: %w", c.Dir, err)
	}
	if err := os.Chmod(c.Dir, 0o700); err != nil { //nolint:gosec // a directory needs x for its owner; 0700 is owner-only
		return fmt.Errorf("restrict token cache %s: %w", c.Dir, err)
	}
	data, err := json.Marshal(t) //nolint:gosec // caching the token is the point; the file is 0600 in a 0700 dir
	if err != nil {
		return fmt.Errorf("encode token for cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, ".token-*")
	if err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write token cache: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write token cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.Dir, k.file())); err != nil {
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
