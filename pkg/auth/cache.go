package auth

import (
	"crypto/rsa"
	"hash/maphash"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache sizing. An entry costs the token itself, its parsed claims and fixed overhead: the key, the entry struct,
// the LRU list element and map slot, the Claims struct and its three NumericDate allocations — about 512 bytes —
// plus the claim strings. estimateSize adds those up and refuses to cache anything above maxCacheEntryBytes, so
// the worst case is DefaultCacheSize × maxCacheEntryBytes = 16384 × 4 KiB = 64 MiB. Typical Auth0 access tokens
// (~1 KiB tokens, a few scopes) cost about 2 KiB per entry, so the default usually holds 16384 tokens in ~32 MiB;
// a token over about 3 KiB is validated every time.
const (
	// DefaultCacheSize is the verified-token cache bound in entries (64 MiB worst case, see maxCacheEntryBytes).
	DefaultCacheSize = 16384
	// maxCacheEntryBytes is the largest estimated entry cached; bigger tokens are validated every time.
	maxCacheEntryBytes = 4096
	// maxCachedTokenBytes skips hashing and caching of tokens that cannot fit in an entry anyway.
	maxCachedTokenBytes = maxCacheEntryBytes - entryOverhead
	// entryOverhead approximates the fixed bytes of one entry (see the sizing note above).
	entryOverhead = 512
	// maxCacheShards spreads the LRU locks so concurrent requests rarely contend.
	maxCacheShards = 64
)

// cacheEntry is one verified token: its claims, the key that verified it and when the entry stops being trusted.
// The claims are part of the entry, not a pointer to them: a full cache is that many fewer objects for every
// garbage collection to trace.
type cacheEntry struct {
	claims  Claims  // the kid that verified the token is claims.KeyID()
	token   string  // the whole token: the key only finds the entry, this proves it is the token's
	keys    *keySet // the issuer's key set the kid belongs to
	key     *rsa.PublicKey
	expires time.Time
}

// tokenCache is a sharded LRU keyed by a seeded 64-bit hash of the whole token (hash/maphash, ~20x cheaper than
// SHA-256 on every request); a hit counts only if the entry holds exactly the token presented. Two different
// tokens with the same key merely miss: the seed is random per process, so no one can make them collide on purpose.
type tokenCache struct {
	seed   maphash.Seed
	shards []*lru.Cache[uint64, *cacheEntry]
	mask   uint64
	m      *metrics
}

func newTokenCache(size int, m *metrics) *tokenCache {
	var mask uint64 // shard count minus one; shards hold at least 64 entries so LRU order stays meaningful
	for int(mask) < maxCacheShards-1 && size/(2*(int(mask)+1)) >= 64 {
		mask = mask<<1 | 1
	}
	n := int(mask) + 1
	c := &tokenCache{seed: maphash.MakeSeed(), shards: make([]*lru.Cache[uint64, *cacheEntry], n), mask: mask, m: m}
	per := (size + n - 1) / n
	for i := range c.shards {
		c.shards[i], _ = lru.New[uint64, *cacheEntry](per) // per > 0, so New cannot fail
	}
	return c
}

// key is the token's cache key.
func (c *tokenCache) key(token string) uint64 { return maphash.String(c.seed, token) }

func (c *tokenCache) shard(key uint64) *lru.Cache[uint64, *cacheEntry] {
	return c.shards[(key>>56)&c.mask] // the top bits: the LRU's own map hashes the whole key
}

// get returns the cached claims of token (whose key is key) if the entry is still within its lifetime and its key
// is still in the key set.
func (c *tokenCache) get(key uint64, token string, now time.Time) (*Claims, bool) {
	s := c.shard(key)
	e, ok := s.Get(key)
	// == is enough: the two strings are compared only when their seeded keys collide, which no caller can arrange,
	// so its timing tells nothing about a cached token.
	if !ok || e.token != token {
		c.m.cacheMiss.Inc()
		return nil, false
	}
	if vk, known := e.keys.lookup(e.claims.keyID); !now.Before(e.expires) || !known || vk.pub != e.key {
		s.Remove(key)
		c.m.cacheMiss.Inc()
		return nil, false
	}
	c.m.cacheHit.Inc()
	return &e.claims, true
}

// add caches e, whose claims a successful validation of token filled, until exp or maxAge, whichever is sooner;
// oversized claims are skipped.
func (c *tokenCache) add(key uint64, token string, e *cacheEntry, now time.Time, maxAge time.Duration, keys *keySet, pub *rsa.PublicKey) {
	claims := &e.claims
	if claims.ExpiresAt == nil || len(token)+estimateSize(claims) > maxCacheEntryBytes {
		return
	}
	expires := now.Add(maxAge)
	if claims.ExpiresAt.Before(expires) {
		expires = claims.ExpiresAt.Time
	}
	if !now.Before(expires) {
		return
	}
	// A copy: token points into the request's header, which the cache must not keep alive.
	e.token, e.keys, e.key, e.expires = strings.Clone(token), keys, pub, expires
	if c.shard(key).Add(key, e) {
		c.m.cacheEvict.Inc()
	}
}

// dropKID removes every entry verified by kid of one issuer's key set, after the key left (or changed in) it.
func (c *tokenCache) dropKID(keys *keySet, kid string) {
	for _, s := range c.shards {
		for _, k := range s.Keys() {
			if e, ok := s.Peek(k); ok && e.claims.keyID == kid && e.keys == keys {
				s.Remove(k)
			}
		}
	}
}

// len counts entries across shards.
func (c *tokenCache) len() int {
	n := 0
	for _, s := range c.shards {
		n += s.Len()
	}
	return n
}

// estimateSize approximates the heap bytes of a cached entry for the claims (see the sizing note).
func estimateSize(c *Claims) int {
	const perString = 32 // string header plus allocator rounding of a short string
	n := entryOverhead + len(c.Issuer) + len(c.Subject) + len(c.ID) + len(c.Scope) + len(c.keyID)
	for _, a := range c.Audience {
		n += perString + len(a)
	}
	for _, p := range c.Permissions {
		n += perString + len(p)
	}
	if c.Confirmation != nil {
		n += perString + len(c.Confirmation.JKT)
	}
	return n
}
