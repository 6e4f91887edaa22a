package jsonlog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// both logs the same record through slog.NewJSONHandler and through Handler and returns the two outputs.
func both(t testing.TB, tm time.Time, level slog.Level, msg string, attrs ...slog.Attr) (want, got string) {
	t.Helper()
	var a, b bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&a, nil), NewHandler(&b)} {
		if !h.Enabled(context.Background(), level) {
			continue
		}
		r := slog.NewRecord(tm, level, msg, 0)
		r.AddAttrs(attrs...)
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return a.String(), b.String()
}

var nasty = []string{
	"", "plain", `quote " backslash \ slash /`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f", "<script>&amp;</script>",
	"é ü 日本", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "emoji 😀", strings.Repeat("long ", 300),
	"/api/private?access_token=x", "\u00e9\u0301", "\ufffd", "\xed\xa0\x80",
}

var floats = []float64{0, math.Copysign(0, -1), 1, -1, 0.001, 0.123, 12.345, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21,
	1.5e300, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.125, 0.1 + 0.2, math.NaN(), math.Inf(1),
	math.Inf(-1)}

func TestSameBytes(t *testing.T) {
	now := time.Now()
	times := []time.Time{now, {}, now.UTC(), time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("x", 5*3600+1800)),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2, slog.LevelError + 4}
	check := func(tm time.Time, level slog.Level, msg string, attrs ...slog.Attr) {
		t.Helper()
		if want, got := both(t, tm, level, msg, attrs...); want != got {
			t.Errorf("differs from slog.JSONHandler:\nslog: %q\nours: %q", want, got)
		}
	}
	for _, tm := range times {
		for _, l := range levels {
			check(tm, l, "request")
		}
	}
	for _, s := range nasty {
		check(now, slog.LevelInfo, s, slog.String(s, s), slog.String("k", s))
	}
	for _, f := range floats {
		check(now, slog.LevelInfo, "f", slog.Float64("duration_ms", f), slog.Float64("neg", -f))
	}
	for _, n := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64} {
		check(now, slog.LevelInfo, "i", slog.Int64("n", n), slog.Uint64("u", uint64(n)), slog.Bool("b", n > 0))
	}
	// Kinds and shapes the fast path hands to slog.
	check(now, slog.LevelWarn, "other kinds", slog.Duration("d", time.Second), slog.Time("t", now), slog.Any("err", errors.New("boom")),
		slog.Any("list", []string{"a"}), slog.Group("g", slog.String("a", "b")), slog.Any("", nil), slog.String("", "empty key"),
		slog.Any("nil", nil))
	// The access log line as pkg/api writes it.
	check(now, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("route", "/api/private"),
		slog.String("path", "/api/private"), slog.Int("status", 200), slog.Float64("duration_ms", 0.052), slog.Int("bytes", 73),
		slog.String("request_id", "GQ3ZCEXXV7HCCNOX5MYWQYVC4E"), slog.String("remote", "127.0.0.1"),
		slog.String("sub", "auth0|alice"), slog.String("kid", "key-1"), slog.String("reason", "expired"))

	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		attrs := make([]slog.Attr, rng.IntN(12))
		for i := range attrs {
			key := nasty[rng.IntN(len(nasty))]
			switch rng.IntN(5) {
			case 0:
				attrs[i] = slog.String(key, nasty[rng.IntN(len(nasty))])
			case 1:
				attrs[i] = slog.Int64(key, rng.Int64()-rng.Int64())
			case 2:
				attrs[i] = slog.Float64(key, math.Float64frombits(rng.Uint64()))
			case 3:
				attrs[i] = slog.Float64(key, float64(rng.IntN(1_000_000))/1000)
			default:
				attrs[i] = slog.Bool(key, rng.IntN(2) == 0)
			}
		}
		check(now.Add(time.Duration(rng.Int64N(int64(100*365*24*time.Hour)))), slog.LevelInfo, "random", attrs...)
	}
}

func TestDerivedHandlersAreSlogs(t *testing.T) {
	var a, b bytes.Buffer
	la := slog.New(slog.NewJSONHandler(&a, nil)).With("component", "auth").WithGroup("g")
	lb := slog.New(NewHandler(&b)).With("component", "auth").WithGroup("g")
	tm := time.Now()
	for _, l := range []*slog.Logger{la, lb} {
		r := slog.NewRecord(tm, slog.LevelWarn, "refresh failed", 0)
		r.AddAttrs(slog.String("jwks_url", "http://x/"), slog.Any("error", errors.New("boom")))
		_ = l.Handler().Handle(context.Background(), r)
	}
	if a.String() != b.String() {
		t.Errorf("slog: %q\nours: %q", a.String(), b.String())
	}
}

func FuzzSameBytes(f *testing.F) {
	for _, s := range nasty {
		f.Add(s, s, int64(len(s)), float64(len(s))/7, len(s)%2 == 0)
	}
	f.Fuzz(func(t *testing.T, key, val string, n int64, x float64, b bool) {
		if key == "" {
			key = "k"
		}
		want, got := both(t, time.Unix(n, n), slog.LevelInfo, val, slog.String(key, val), slog.Int64("n", n),
			slog.Float64("x", x), slog.Bool("b", b))
		if want != got {
			t.Errorf("slog: %q\nours: %q", want, got)
		}
	})
}

func BenchmarkAccessLine(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{{"slog", slog.NewJSONHandler(discard{}, nil)}, {"jsonlog", NewHandler(discard{})}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", "GET"), slog.String("route", "/api/public"), slog.String("path", "/api/public"),
					slog.Int("status", 200), slog.Float64("duration_ms", 0.052), slog.Int("bytes", 73),
					slog.String("request_id", "GQ3ZCEXXV7HCCNOX5MYWQYVC4E"), slog.String("remote", "127.0.0.1"))
				_ = bc.h.Handle(context.Background(), r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestRFC3339Nano(t *testing.T) {
	locs := []*time.Location{time.UTC, time.Local, time.FixedZone("x", -(3*3600 + 30*60)), time.FixedZone("y", 14*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		locs = append(locs, ny) // with the 2026-11-01 fall-back transition below
	}
	base := time.Date(2026, 11, 1, 5, 59, 58, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		tm := base.Add(time.Duration(i) * 997 * time.Microsecond)
		switch i % 4 {
		case 1:
			tm = tm.Truncate(time.Second)
		case 2:
			tm = tm.Add(time.Duration(rng.Int64N(int64(50 * 365 * 24 * time.Hour))))
		case 3:
			tm = tm.Add(time.Duration(rng.IntN(1000)) * time.Nanosecond)
		}
		tm = tm.In(locs[i%len(locs)])
		if got, want := string(appendRFC3339Nano(nil, tm)), tm.Format(time.RFC3339Nano); got != want {
			t.Fatalf("%v: %q, want %q", tm, got, want)
		}
	}
}
