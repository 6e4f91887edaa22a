package auth

import "strings"

// challenge builds an RFC 6750 WWW-Authenticate value; attributes come in name/value pairs and are quoted.
func challenge(attrs ...string) string { return schemeChallenge("Bearer", attrs...) }

// schemeChallenge builds one challenge of scheme with the realm and the given name/value pairs; empty values are
// left out.
func schemeChallenge(scheme string, attrs ...string) string {
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString(` realm="`)
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

// challenges are the WWW-Authenticate values of an answer (RFC 9449 §7.1 allows one per scheme): the Bearer
// challenge unless DPoP is required, the DPoP challenge (with algs) unless it is disabled. The error attributes go
// to the challenge of the scheme the request used (DPoP when only DPoP is accepted), and that challenge comes
// first, so a client reading one header value reads the one about its request. Every challenge carries
// resource_metadata (RFC 9728 §5.1) when the metadata path is configured and the base URL is known.
func (v *Validator) challenges(a response, scheme Scheme, base string) []string {
	if a.challenge == "" {
		return nil
	}
	rm := ""
	if base != "" && v.cfg.ResourceMetadataPath != "" {
		rm = base + v.cfg.ResourceMetadataPath
	}
	onDPoP := v.dpop != nil && (scheme == SchemeDPoP || v.cfg.DPoP.Mode == DPoPRequired)
	errAttrs := []string{"error", a.code, "error_description", a.desc, "scope", a.scope}
	var bearer, dp string
	if v.cfg.DPoP.Mode != DPoPRequired || v.dpop == nil {
		var attrs []string
		if !onDPoP {
			attrs = errAttrs
		}
		bearer = schemeChallenge("Bearer", append(attrs, "resource_metadata", rm)...)
	}
	if v.dpop != nil {
		attrs := []string{"algs", strings.Join(v.dpop.Algs(), " ")}
		if onDPoP {
			attrs = append(attrs, errAttrs...)
		}
		dp = schemeChallenge("DPoP", append(attrs, "resource_metadata", rm)...)
	}
	switch {
	case bearer == "":
		return []string{dp}
	case dp == "":
		return []string{bearer}
	case onDPoP:
		return []string{dp, bearer}
	}
	return []string{bearer, dp}
}
