package dpop_test

import "testing"

// BenchmarkVerifyES256 is the server's cost for one ES256 proof with ath, replay cache included (each iteration
// a distinct proof, signed before the timer starts).
func BenchmarkVerifyES256(b *testing.B) {
	keys(b)
	s := newSigner(b, ecKey)
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = mustProof(b, s, "GET", testURL, testToken)
	}
	v := newVerifier()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(proofs[i], "GET", testURL, testToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignES256 is the client's cost for one proof.
func BenchmarkSignES256(b *testing.B) {
	keys(b)
	s := newSigner(b, ecKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Proof("GET", testURL, testToken); err != nil {
			b.Fatal(err)
		}
	}
}
