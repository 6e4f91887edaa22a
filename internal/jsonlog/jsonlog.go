// Package jsonlog is a slog handler that writes exactly what slog.NewJSONHandler(w, nil) writes, byte for byte,
// only cheaper for the common record: one whose attributes are all strings, integers, finite floats and booleans
// with non-empty keys, on a logger without WithAttrs or WithGroup (the access log line, written once per request).
// Such a record is encoded here in one pass into a pooled buffer; every other record, and every handler derived
// with WithAttrs or WithGroup, is slog's own JSONHandler. The savings are slog's per-attribute plumbing and, above
// all, its encoding of a float through encoding/json (an Encoder per value): duration_ms is one on every line.
//
// TestSameBytes and FuzzSameBytes compare the output with slog.NewJSONHandler's.
package jsonlog

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Handler is slog.NewJSONHandler(w, nil) with a fast path; see the package documentation.
type Handler struct {
	w     *lockedWriter
	inner slog.Handler
}

// lockedWriter serialises the writes of the fast path and of slog's handlers, which share w, so lines never
// interleave however w behaves.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p) //nolint:wrapcheck // the writer's own error, as slog's handler would return it
}

// NewHandler writes JSON lines to w at level Info and above, as slog.NewJSONHandler(w, nil) does.
func NewHandler(w io.Writer) *Handler { return NewHandlerLevel(w, slog.LevelInfo) }

// NewHandlerLevel writes JSON lines to w at level and above, as slog.NewJSONHandler with that Level does.
func NewHandlerLevel(w io.Writer, level slog.Leveler) *Handler {
	lw := &lockedWriter{w: w}
	return &Handler{w: lw, inner: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level})}
}

// Enabled is slog.JSONHandler's: the handler's level and above.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// WithAttrs is slog's own handler with attrs; derived loggers are rare and keep slog's encoding.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler { return h.inner.WithAttrs(attrs) }

// WithGroup is slog's own handler with the group.
func (h *Handler) WithGroup(name string) slog.Handler { return h.inner.WithGroup(name) }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooled keeps an occasional huge line's buffer out of the pool.
const maxPooled = 16 << 10

// Handle writes r as one JSON line.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if y := r.Time.Year(); !r.Time.IsZero() && (y < 0 || y >= 10000) {
		return h.inner.Handle(ctx, r) //nolint:wrapcheck // slog's own
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, '{')
	if !r.Time.IsZero() {
		b = append(b, `"time":"`...)
		b = appendRFC3339Nano(b, r.Time)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = appendAttr(b, a)
		return ok
	})
	var err error
	if ok {
		b = append(b, "}\n"...)
		_, err = h.w.Write(b)
	} else {
		err = h.inner.Handle(ctx, r) // a kind or shape only slog's handler writes
	}
	if cap(b) <= maxPooled {
		*bp = b
		bufPool.Put(bp)
	}
	return err
}

// appendAttr appends ,"key":value for the attributes encoded here: a non-empty key (an empty one has slog rules of
// its own) and a string, integer, boolean or finite float. ok is false for anything else, which slog then writes.
func appendAttr(b []byte, a slog.Attr) (_ []byte, ok bool) {
	if a.Key == "" {
		return b, false
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindBool:
	case slog.KindFloat64:
		if f := v.Float64(); math.IsNaN(f) || math.IsInf(f, 0) {
			return b, false
		}
	default:
		return b, false
	}
	b = append(b, ',')
	b = appendString(b, a.Key)
	b = append(b, ':')
	return appendValue(b, v), true
}

func appendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindFloat64:
		return appendFloat(b, v.Float64())
	}
	panic("jsonlog: appendValue of a kind appendAttr rejects")
}

// appendFloat is encoding/json's float64 encoding (which slog uses): the shortest 'f' form, or 'e' for magnitudes
// below 1e-6 or from 1e21 on, with a one-digit negative exponent written e-7 rather than e-07.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// second is the RFC 3339 text of one second in one location: the date and time up to the seconds, and the zone.
type second struct {
	unix   int64
	loc    *time.Location
	prefix string // 2006-01-02T15:04:05
	zone   string // Z07:00
}

// lastSecond caches the formatting of the second most lines are written in.
var lastSecond atomic.Pointer[second]

// appendRFC3339Nano is t.AppendFormat(b, time.RFC3339Nano), reusing the date, time and zone text while lines stay
// in the same second and location (a zone's offset only changes on a whole second): only the fraction, nine digits
// without trailing zeros, or nothing for a whole second, is formatted for each line.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	u, loc := t.Unix(), t.Location()
	s := lastSecond.Load()
	if s == nil || s.unix != u || s.loc != loc {
		s = &second{unix: u, loc: loc, prefix: t.Format("2006-01-02T15:04:05"), zone: t.Format("Z07:00")}
		lastSecond.Store(s)
	}
	b = append(b, s.prefix...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, s.zone...)
}

const hex = "0123456789abcdef"

// appendString is slog's JSON string: quoted, with \\ \" \n \r \t, \u00XX for other control bytes, \ufffd for
// each invalid UTF-8 byte and \u2028 \u2029 escaped; everything else, including <, > and &, as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
