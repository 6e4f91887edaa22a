// Package conformance is tokencheck's conformance and attack suite: a matrix of requests, each with the status code
// (and, where RFC 6750 fixes it, the WWW-Authenticate error code) a correct protected API answers, a runner that
// sends them concurrently, and reporters (table, JSON, JUnit) that say which bad token an API wrongly accepted and
// why that matters.
//
// Token sources are chosen by the tenant: a stand-in tenant (discovery shows mint_endpoint) mints tokens with
// exactly the claims a case needs, so every case runs; with a real tenant the cases that need the issuer's key are
// reported as skipped, never dropped.
package conformance
