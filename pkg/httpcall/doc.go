// Package httpcall makes the single, bounded HTTP exchanges tokencheck's client needs: a client with timeouts that
// never follows redirects (a redirect is a status worth seeing, not hiding), a request helper that caps how much of
// a response it reads, an RFC 7235 WWW-Authenticate parser, and a transport that shows an exchange with tokens and
// secrets redacted.
package httpcall
