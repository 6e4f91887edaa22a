package dpop

import (
	"crypto/sha256"
	"math"
	"sync"
)

// replayKey is a truncated SHA-256 of (thumbprint, jti): fixed size whatever the jti, and scoped by key so one
// client's jti never collides with another's. 128 bits keep accidental collisions out of reach.
type replayKey [16]byte

func newReplayKey(jkt, jti string) replayKey {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	var k replayKey
	copy(k[:], h.Sum(nil))
	return k
}

// replayCache remembers proofs by the second of their iat. A proof only needs remembering while its iat is
// inside the window, so whole seconds expire at once; at the cap the oldest second is dropped and becomes the
// floor below which no proof is accepted (see the package comment).
type replayCache struct {
	mu      sync.Mutex
	max     int
	n       int
	buckets map[int64]map[replayKey]struct{}
	oldest  int64 // lowest second that may have a bucket; math.MaxInt64 when empty
	floor   int64 // proofs with iat second <= floor are refused
}

func newReplayCache(maxEntries int) *replayCache {
	return &replayCache{
		max:     maxEntries,
		buckets: make(map[int64]map[replayKey]struct{}),
		oldest:  math.MaxInt64,
		floor:   math.MinInt64,
	}
}

// outcome of add.
const (
	replayFresh = iota
	replaySeen
	replayTooOld
)

// add records key for a proof issued at second iat, dropping seconds before expireBefore. It reports whether
// the key was fresh, already seen, or below the floor.
func (c *replayCache) add(k replayKey, iat, expireBefore int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(expireBefore)
	if iat <= c.floor {
		return replayTooOld
	}
	for _, b := range c.buckets {
		if _, ok := b[k]; ok {
			return replaySeen
		}
	}
	for c.n >= c.max && c.n > 0 {
		c.floor = c.oldest
		c.drop(c.oldest)
		c.advanceOldest()
		if iat <= c.floor {
			return replayTooOld
		}
	}
	b := c.buckets[iat]
	if b == nil {
		b = make(map[replayKey]struct{})
		c.buckets[iat] = b
	}
	b[k] = struct{}{}
	c.n++
	if iat < c.oldest {
		c.oldest = iat
	}
	return replayFresh
}

func (c *replayCache) expire(before int64) {
	for c.n > 0 && c.oldest < before {
		c.drop(c.oldest)
		c.advanceOldest()
	}
}

func (c *replayCache) drop(sec int64) {
	if b, ok := c.buckets[sec]; ok {
		c.n -= len(b)
		delete(c.buckets, sec)
	}
}

// advanceOldest finds the lowest remaining second; the bucket map holds at most window+leeway seconds, so a scan
// is cheap.
func (c *replayCache) advanceOldest() {
	c.oldest = math.MaxInt64
	for sec := range c.buckets {
		if sec < c.oldest {
			c.oldest = sec
		}
	}
}

// len is the number of remembered proofs.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
