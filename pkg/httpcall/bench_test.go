package httpcall

import "testing"

func BenchmarkParseChallenges(b *testing.B) {
	const h = `Bearer realm="api", error="insufficient_scope", error_description="the token lacks \"read:messages\"", scope="read:messages"`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseChallenges(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedactBody(b *testing.B) {
	body := []byte(`{"access_token":"` + jwt + `","token_type":"Bearer","expires_in":86400,"scope":"read:messages"}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = RedactBody("application/json", body)
	}
}
