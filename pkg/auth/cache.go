package auth

import (
	"crypto/rsa"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache sizing. An entry costs its parsed claims plus fixed overhead: the 32-byte key, the entry struct, the LRU
// list element and map slot, the Claims struct and its three NumericDate allocations — about 512 bytes — plus the
// claim strings. estimateSize adds those up and refuses to cache anything above maxCacheEntryBytes, so the worst
// case is DefaultCacheSize × maxCacheEntryBytes = 16384 × 4 KiB = 64 MiB. Typical Auth0 access tokens (~1 KiB
// tokens, a few scopes) cost well under 1 KiB per entry, so the default usually holds 16384 tokens in ~16 MiB.
const (
	// DefaultCacheSize is the verified-token cache bound in entries (64 MiB worst case, see maxCacheEntryBytes).
	DefaultCacheSize = 16384
	// maxCacheEntryBytes is the largest estimated entry cached; bigger tokens are validated every time.
	maxCacheEntryBytes = 4096
	// maxCachedTokenBytes skips hashing and caching of tokens whose claims cannot fit in an entry anyway.
	maxCachedTokenBytes = 8192
	// entryOverhead approximates the fixed bytes of one entry (see the sizing note above).
	entryOverhead = 512
	// maxCacheShards spreads the LRU locks so concurrent requests rarely contend.
	maxCacheShards = 64
)

// cacheEntry is one verified token: its claims, the key that verified it and when the entry stops being trusted.
type cacheEntry struct {
	claims  *Claims
	keys    *keySet // the issuer's key set the kid belongs to
	kid     string
	key     *rsa.PublicKey
	expires time.Time
}

// tokenCache is a sharded LRU keyed by the SHA-256 of the whole token; the token itself is never stored.
type tokenCache struct {
	shards []*lru.Cache[[32]byte, *cacheEntry]
	mask   uint8
	m      *metrics
}

func newTokenCache(size int, m *metrics) *tokenCache {
	var mask uint8 // shard count minus one; shards hold at least 64 entries so LRU order stays meaningful
	for int(mask) < maxCacheShards-1 && size/(2*(int(mask)+1)) >= 64 {
		mask = mask<<1 | 1
	}
	n := int(mask) + 1
	c := &tokenCache{shards: make([]*lru.Cache[[32]byte, *cacheEntry], n), mask: mask, m: m}
	per := (size + n - 1) / n
	for i := range c.shards {
		c.shards[i], _ = lru.New[[32]byte, *cacheEntry](per) // per > 0, so New cannot fail
	}
	return c
}

func (c *tokenCache) shard(sum [32]byte) *lru.Cache[[32]byte, *cacheEntry] {
	return c.shards[sum[0]&c.mask]
}

// get returns the cached claims if the entry is still within its lifetime and its key is still in the key set.
func (c *tokenCache) get(sum [32]byte, now time.Time) (*Claims, bool) {
	s := c.shard(sum)
	e, ok := s.Get(sum)
	if !ok {
		c.m.cacheMiss.Inc()
		return nil, false
	}
	if vk, known := e.keys.lookup(e.kid); !now.Before(e.expires) || !known || vk.pub != e.key {
		s.Remove(sum)
		c.m.cacheMiss.Inc()
		return nil, false
	}
	c.m.cacheHit.Inc()
	return e.claims, true
}

// add caches a successful validation until exp or maxAge, whichever is sooner; oversized claims are skipped.
func (c *tokenCache) add(sum [32]byte, claims *Claims, now time.Time, maxAge time.Duration, keys *keySet, key *rsa.PublicKey) {
	if claims.ExpiresAt == nil || estimateSize(claims) > maxCacheEntryBytes {
		return
	}
	expires := now.Add(maxAge)
	if claims.ExpiresAt.Before(expires) {
		expires = claims.ExpiresAt.Time
	}
	if !now.Before(expires) {
		return
	}
	if c.shard(sum).Add(sum, &cacheEntry{claims: claims, keys: keys, kid: claims.keyID, key: key, expires: expires}) {
		c.m.cacheEvict.Inc()
	}
}

// dropKID removes every entry verified by kid of one issuer's key set, after the key left (or changed in) it.
func (c *tokenCache) dropKID(keys *keySet, kid string) {
	for _, s := range c.shards {
		for _, k := range s.Keys() {
			if e, ok := s.Peek(k); ok && e.kid == kid && e.keys == keys {
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
