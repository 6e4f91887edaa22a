package loadtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCollectTokens(t *testing.T) {
	var inFlight, peak atomic.Int64
	source := func(_ context.Context, i int) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		return fmt.Sprintf("tok-%d", i), nil
	}
	var calls, last int
	got, err := CollectTokens(t.Context(), 200, 4, source, func(done, total int) {
		calls++
		if done != calls || total != 200 {
			t.Errorf("progress(%d, %d) on call %d", done, total, calls)
		}
		last = done
	})
	if err != nil {
		t.Fatalf("CollectTokens: %v", err)
	}
	if len(got) != 200 || last != 200 {
		t.Fatalf("%d tokens, last progress %d; want 200", len(got), last)
	}
	for i, tok := range got {
		if tok != fmt.Sprintf("tok-%d", i) {
			t.Fatalf("token %d is %q, want in order", i, tok)
		}
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("%d calls ran at once, want at most 4", p)
	}
}

func TestCollectTokensFails(t *testing.T) {
	boom := errors.New("tenant said no")
	tests := []struct {
		name   string
		n, c   int
		source TokenSource
		want   string
	}{
		{"source error", 50, 3, func(_ context.Context, i int) (string, error) {
			if i == 7 {
				return "", boom
			}
			return fmt.Sprint(i), nil
		}, "token 8 of 50: tenant said no"},
		{"empty token", 5, 2, func(context.Context, int) (string, error) { return "", nil }, "empty token"},
		{"duplicates", 10, 2, func(_ context.Context, i int) (string, error) { return fmt.Sprint(i % 5), nil }, "only 5 distinct tokens of 10"},
		{"zero count", 0, 2, func(context.Context, int) (string, error) { return "x", nil }, "at least 1"},
		{"zero concurrency", 3, 0, func(context.Context, int) (string, error) { return "x", nil }, "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CollectTokens(t.Context(), tt.n, tt.c, tt.source, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCollectTokensStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int64
	_, err := CollectTokens(ctx, 1000, 2, func(ctx context.Context, i int) (string, error) {
		if calls.Add(1) == 10 {
			cancel()
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		return fmt.Sprint(i), nil
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := calls.Load(); n > 20 {
		t.Errorf("%d calls after cancelling at the 10th, want the rest skipped", n)
	}
}
