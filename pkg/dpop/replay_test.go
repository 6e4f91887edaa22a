package dpop

import (
	"runtime"
	"strconv"
	"testing"
)

func TestReplayCache(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		steps []struct {
			jti        string
			iat, expBf int64
			want       int
		}
	}{
		{name: "fresh then seen", max: 10, steps: []struct {
			jti        string
			iat, expBf int64
			want       int
		}{{"a", 100, 40, replayFresh}, {"a", 100, 40, replaySeen}, {"a", 101, 41, replaySeen}, {"b", 100, 41, replayFresh}}},
		{name: "expired seconds forgotten", max: 10, steps: []struct {
			jti        string
			iat, expBf int64
			want       int
		}{{"a", 100, 40, replayFresh}, {"a", 170, 110, replayFresh}}},
		{name: "cap evicts oldest second and sets floor", max: 2, steps: []struct {
			jti        string
			iat, expBf int64
			want       int
		}{{"a", 100, 40, replayFresh}, {"b", 101, 41, replayFresh}, {"c", 102, 42, replayFresh}, {"a", 100, 42, replayTooOld}, {"b", 101, 42, replaySeen}}},
		{name: "cap within one second fails closed", max: 2, steps: []struct {
			jti        string
			iat, expBf int64
			want       int
		}{{"a", 100, 40, replayFresh}, {"b", 100, 40, replayFresh}, {"c", 100, 40, replayTooOld}, {"d", 101, 41, replayFresh}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newReplayCache(tc.max)
			for i, s := range tc.steps {
				if got := c.add(newReplayKey("jkt", s.jti), s.iat, s.expBf); got != s.want {
					t.Fatalf("step %d (%s@%d): got %d, want %d", i, s.jti, s.iat, got, s.want)
				}
				if c.len() > tc.max {
					t.Fatalf("step %d: %d entries over cap %d", i, c.len(), tc.max)
				}
			}
		})
	}
}

// BenchmarkReplayCacheMemory records 1M distinct proofs (as Verify does: thumbprint+jti key, iat spread over the
// 60s window) and reports the heap they hold.
func BenchmarkReplayCacheMemory(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := newReplayCache(DefaultMaxReplayEntries)
		for i := range n {
			iat := int64(1_000_000 + i*60/n)
			if c.add(newReplayKey("jkt", strconv.Itoa(i)), iat, 1_000_000-1) != replayFresh {
				b.Fatal("distinct proof not fresh")
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if c.len() != n {
			b.Fatalf("cache holds %d, want %d", c.len(), n)
		}
		held := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(held/n, "B/entry")
		b.ReportMetric(held/(1<<20), "MiB/1M")
		runtime.KeepAlive(c)
	}
}
