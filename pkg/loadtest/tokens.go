package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// TokenSource produces the i-th token of a pool (i from 0), e.g. by asking a stand-in tenant to mint one.
type TokenSource func(ctx context.Context, i int) (string, error)

// CollectTokens calls source n times, at most concurrency calls at once, and returns the n tokens in order. The
// first error cancels the calls still running and is returned. progress, if not nil, is called (never
// concurrently) after each token with how many are done. The tokens must all differ: a pool meant to defeat a
// verified-token cache is useless with repeats, so duplicates are an error.
func CollectTokens(ctx context.Context, n, concurrency int, source TokenSource, progress func(done, total int)) ([]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("loadtest: token count %d must be at least 1", n)
	}
	if concurrency < 1 {
		return nil, fmt.Errorf("loadtest: token concurrency %d must be at least 1", concurrency)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	out := make([]string, n)
	jobs := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range min(concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				tok, err := source(ctx, i)
				if err == nil && tok == "" {
					err = errors.New("empty token")
				}
				if err != nil {
					cancel(fmt.Errorf("token %d of %d: %w", i+1, n, err))
					continue // keep draining so the feeder never blocks
				}
				out[i] = tok
				mu.Lock()
				done++
				if progress != nil {
					progress(done, n)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("loadtest: collecting tokens: %w", err)
	}
	seen := make(map[string]struct{}, n)
	for _, tok := range out {
		seen[tok] = struct{}{}
	}
	if len(seen) != n {
		return nil, fmt.Errorf("loadtest: token source returned only %d distinct tokens of %d; each must differ", len(seen), n)
	}
	return out, nil
}
