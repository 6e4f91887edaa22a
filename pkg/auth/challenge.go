package auth

import "strings"

// challenge builds an RFC 6750 WWW-Authenticate value; attributes come in name/value pairs and are quoted.
func challenge(attrs ...string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(Realm)
	b.WriteByte('"')
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		b.WriteString(", ")
		b.WriteString(attrs[i])
		b.WriteString(`="`)
		writeQuoted(&b, attrs[i+1])
		b.WriteByte('"')
	}
	return b.String()
}

// writeQuoted escapes " and \ (RFC 9110 quoted-string) and replaces bytes RFC 6750 does not allow in
// error_description or scope (controls and non-ASCII) so a header can never be split or corrupted.
func writeQuoted(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
}
