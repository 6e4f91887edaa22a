package tenant

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Bounds on password guessing (the login form and /activate): failures per user and per remote address in a sliding window, and how
// many users and addresses are tracked at once (beyond that new ones are throttled, failing closed).
const (
	maxLoginFailures = 5
	loginWindow      = time.Minute
	maxLimiterKeys   = 10000
)

// attemptLimiter counts failures per key in a sliding window; a key with limit failures in the window is
// throttled until the oldest of them leaves it.
type attemptLimiter struct {
	limit   int
	window  time.Duration
	maxKeys int

	mu       sync.Mutex
	failures map[string][]time.Time // oldest first, at most limit entries
}

func newAttemptLimiter(limit int, window time.Duration, maxKeys int) *attemptLimiter {
	return &attemptLimiter{limit: limit, window: window, maxKeys: maxKeys, failures: map[string][]time.Time{}}
}

// waitLocked is how long until any of keys may try again; 0 means now. Caller holds mu.
func (l *attemptLimiter) waitLocked(now time.Time, keys ...string) time.Duration {
	var longest time.Duration
	for _, k := range keys {
		f := l.prune(now, k)
		if f == nil && len(l.failures) >= l.maxKeys {
			l.sweep(now)
			if len(l.failures) >= l.maxKeys {
				longest = max(longest, l.window)
			}
			continue
		}
		if len(f) >= l.limit {
			longest = max(longest, f[0].Add(l.window).Sub(now))
		}
	}
	return longest
}

// attempt is wait and fail in one step, for a password check: when keys may try now, it counts the attempt as a
// failure at once and returns done, which takes that failure back if the check then succeeds. Concurrent guesses
// therefore cannot all pass the check before any of them is counted. wait > 0 means throttled (done is nil).
func (l *attemptLimiter) attempt(now time.Time, keys ...string) (wait time.Duration, done func(ok bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.waitLocked(now, keys...); wait > 0 {
		return wait, nil
	}
	l.failLocked(now, keys...)
	return 0, func(ok bool) {
		if !ok {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, k := range keys {
			f := l.failures[k]
			if i := slices.Index(f, now); i >= 0 {
				f = slices.Delete(f, i, i+1)
			}
			if len(f) == 0 {
				delete(l.failures, k)
				continue
			}
			l.failures[k] = f
		}
	}
}

// failLocked records one failure for each of keys. Caller holds mu.
func (l *attemptLimiter) failLocked(now time.Time, keys ...string) {
	for _, k := range keys {
		f := l.prune(now, k)
		if f == nil && len(l.failures) >= l.maxKeys {
			continue
		}
		f = append(f, now)
		if len(f) > l.limit {
			f = f[len(f)-l.limit:]
		}
		l.failures[k] = f
	}
}

// prune drops k's failures older than the window and returns the rest (nil when none). Caller holds mu.
func (l *attemptLimiter) prune(now time.Time, k string) []time.Time {
	f := l.failures[k]
	i := 0
	for i < len(f) && !now.Before(f[i].Add(l.window)) {
		i++
	}
	if i == len(f) {
		delete(l.failures, k)
		return nil
	}
	f = f[i:]
	l.failures[k] = f
	return f
}

// sweep prunes every key, so keys whose failures have all left the window stop counting against maxKeys.
func (l *attemptLimiter) sweep(now time.Time) {
	for k := range l.failures {
		l.prune(now, k)
	}
}

// signInAttempt counts one password attempt for username from r's address, the same for the login form and the
// device approval, so both share one budget per user and per address. When throttled it sets Retry-After on w
// and returns the user-facing message (done is nil); otherwise done(ok) must report the password check.
func (t *Tenant) signInAttempt(w http.ResponseWriter, r *http.Request, now time.Time, username string) (throttled string, done func(ok bool)) {
	wait, done := t.logins.attempt(now, "user:"+truncate(username, 256), "addr:"+remoteHost(r))
	if wait <= 0 {
		return "", done
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return fmt.Sprintf("Too many failed sign-in attempts. Wait %d seconds, then try again.", secs), nil
}
