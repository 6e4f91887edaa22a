package auth

import (
	"sync"
	"sync/atomic"
)

// interns are the issuers and audiences of every validator made in this process: the strings the claims decoder
// hands out instead of copies. The set only grows, and only by configuration, so it stays a few entries.
var (
	interns   atomic.Pointer[map[string]string]
	internsMu sync.Mutex
)

func init() { interns.Store(&map[string]string{}) }

// intern adds ss to the set the claims decoder reuses (copy on write: decoders read it without a lock).
func intern(ss ...string) {
	internsMu.Lock()
	defer internsMu.Unlock()
	old := *interns.Load()
	next := make(map[string]string, len(old)+len(ss))
	for k, v := range old {
		next[k] = v
	}
	for _, s := range ss {
		if s != "" {
			next[s] = s
		}
	}
	interns.Store(&next)
}
