package tenant

import (
	"testing"
	"time"
)

func TestGrantStoreBounds(t *testing.T) {
	t.Parallel()
	s := newGrantStore()
	now := time.Now()
	g := grant{clientID: "native", username: "alice", scopes: []string{"openid", "offline_access"}}
	for i := range maxAuthCodes {
		if _, ok := s.newCode(now, g, "http://127.0.0.1:1/callback", ""); !ok {
			t.Fatalf("code %d refused below the cap", i)
		}
	}
	if _, ok := s.newCode(now, g, "http://127.0.0.1:1/callback", ""); ok {
		t.Fatal("a code beyond the cap was stored")
	}
	// Codes are kept a code lifetime past expiry (to recognise reuse), then swept to make room.
	if _, ok := s.newCode(now.Add(authCodeTTL), g, "http://127.0.0.1:1/callback", ""); ok {
		t.Fatal("codes were swept before they could no longer be reused")
	}
	if _, ok := s.newCode(now.Add(2*authCodeTTL+time.Second), g, "http://127.0.0.1:1/callback", ""); !ok || len(s.codes) != 1 {
		t.Fatalf("expired codes were not swept: %d left", len(s.codes))
	}

	s = newGrantStore()
	s.mu.Lock()
	first := s.newFamilyLocked(now, g)
	for i := 1; i < maxGrantFamilies; i++ {
		s.newFamilyLocked(now.Add(time.Duration(i)), g)
	}
	s.newFamilyLocked(now.Add(time.Hour), g)
	n := len(s.families)
	s.mu.Unlock()
	if n != maxGrantFamilies || s.active(now, first) {
		t.Fatalf("%d families, oldest still active %v: the oldest must make room", n, s.active(now, first))
	}

	// A family keeps only its latest refresh tokens for reuse detection.
	s = newGrantStore()
	s.mu.Lock()
	id := s.newFamilyLocked(now, g)
	f := s.families[id]
	for range maxRefreshGeneration + 5 {
		s.addRefreshLocked(id, f)
	}
	kept, total := len(f.tokens), len(s.refresh)
	s.mu.Unlock()
	if kept != maxRefreshGeneration || total != maxRefreshGeneration {
		t.Fatalf("kept %d refresh tokens (%d in the store), want %d", kept, total, maxRefreshGeneration)
	}
}
