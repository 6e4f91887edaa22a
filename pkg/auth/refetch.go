package auth

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// refetcher runs unknown-kid refetches of the JWKS. At most one is pending at a time: it takes one limiter slot,
// starts when that slot comes, and then fetches detached from any request, under its own timeout, so neither an
// attacker's flood of random kids nor a request that stops waiting can cut it short. Every request with an
// unknown kid in the meantime joins it instead of spending budget of its own, and the keys it brings (a rotated
// key among them) are there for the requests that follow.
type refetcher struct {
	limiter *rate.Limiter
	waitMax time.Duration
	now     func() time.Time
	fetch   func() // one detached, deduplicated JWKS fetch
	stop    <-chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	pending *pendingRefetch
	closed  bool // set under mu before wg.Wait, so no goroutine is added after
}

// close stops scheduling refetches and waits for the pending one to end (stop must be closed first).
func (r *refetcher) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
}

// pendingRefetch is one scheduled or running refetch; done closes when it has finished (or was abandoned).
type pendingRefetch struct {
	at   time.Time
	done chan struct{}
}

// await schedules a refetch unless one is pending, and waits for it while that can help this request: not at
// all if its slot is further away than waitMax, else until it finishes, waitMax passes or ctx ends. Returning
// early never cancels the refetch.
func (r *refetcher) await(ctx context.Context) {
	now := r.now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	p := r.pending
	if p == nil {
		res := r.limiter.ReserveN(now, 1)
		if !res.OK() { // a zero burst: unknown-kid refetches are disabled
			r.mu.Unlock()
			return
		}
		delay := res.DelayFrom(now)
		p = &pendingRefetch{at: now.Add(delay), done: make(chan struct{})}
		r.pending = p
		r.wg.Add(1)
		go r.run(p, delay)
	}
	r.mu.Unlock()
	if p.at.Sub(now) > r.waitMax {
		return
	}
	t := time.NewTimer(r.waitMax)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// run waits for the refetch's limiter slot, fetches, and clears the pending refetch so the next unknown kid
// schedules a new one.
func (r *refetcher) run(p *pendingRefetch, delay time.Duration) {
	defer r.wg.Done()
	defer close(p.done)
	defer func() {
		r.mu.Lock()
		r.pending = nil
		r.mu.Unlock()
	}()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.stop:
			return
		}
	}
	select {
	case <-r.stop:
		return
	default:
	}
	r.fetch()
}
