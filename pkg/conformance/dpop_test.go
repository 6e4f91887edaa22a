package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/dpop"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// dpopFlaws break one rule of a DPoP resource server each; the zero value is a correct one.
type dpopFlaws struct {
	noProofOK   bool    // a DPoP-scheme request without a proof is served
	downgrade   bool    // a bound token is served as a Bearer token
	noJKT       bool    // the proof's key is not compared with cnf.jkt
	unboundOK   bool    // a token without cnf is served with the DPoP scheme
	ownHTM      bool    // the proof's own htm is trusted
	ownHTU      bool    // the proof's own htu is trusted
	wideIAT     bool    // proofs are accepted an hour either side of now
	noReplay    bool    // every proof is checked by a fresh verifier, with an empty replay cache
	noATH       bool    // ath is never checked
	firstProof  bool    // of several DPoP headers, the first is checked
	ignore      []error // proof errors of these kinds are ignored
	required    bool    // the metadata says every token must be bound, and Bearer tokens are refused
	noMetadata  bool    // no RFC 9728 document
	mdResource  string  // the metadata's resource, "" for the API's URL
	noChallenge bool    // refusals carry no DPoP challenge
}

// dpopRS is a DPoP resource server for the private route, in front of the real API (which serves everything else),
// with the given flaws: the suite is judged against an implementation of RFC 9449 written here, independently of
// the project's own server.
func dpopRS(f dpopFlaws) mutation {
	return func(st *stack, next http.Handler) http.Handler {
		algs := dpop.DefaultAlgs()
		newVerifier := func() *dpop.Verifier {
			o := dpop.VerifierOptions{Algs: algs}
			if f.wideIAT {
				o.IATWindow, o.Leeway = time.Hour, time.Hour
			}
			return dpop.NewVerifier(o)
		}
		shared := newVerifier()
		// refuseDPoP answers as RFC 9449 §7.1 shows: a DPoP challenge with the error, and a Bearer one beside it
		// unless Bearer tokens are refused altogether.
		refuseDPoP := func(w http.ResponseWriter, code, desc string) {
			if !f.required {
				w.Header().Add("WWW-Authenticate", `Bearer realm="api"`)
			}
			if !f.noChallenge {
				w.Header().Add("WWW-Authenticate", fmt.Sprintf(`DPoP algs=%q, error=%q, error_description=%q`, strings.Join(algs, " "), code, desc))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
		}
		serve := func(w http.ResponseWriter, r *http.Request, tok string) (map[string]any, bool) {
			h, c, err := tokens.DecodeUnverified(tok)
			if err != nil || !verifiedAs(r.Context(), st, tok, h, "RS256") || expired(c, time.Now()) {
				refuse(w, http.StatusUnauthorized, "invalid_token", "bad token")
				return nil, false
			}
			return c, true
		}
		ok := func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "private"})
		}
		scopeOK := func(w http.ResponseWriter, r *http.Request, c map[string]any) bool {
			if r.URL.Path == "/api/private-scoped" && !hasScope(c) {
				refuse(w, http.StatusForbidden, "insufficient_scope", "needs "+testScope)
				return false
			}
			return true
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == PathResourceMetadata && f.noMetadata {
				http.NotFound(w, r) // not the real API's document either
				return
			}
			if r.URL.Path == PathResourceMetadata {
				resource := f.mdResource
				if resource == "" {
					resource = st.apiURL
				}
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{
					"resource": resource, "authorization_servers": []string{st.issuer},
					"bearer_methods_supported": []string{"header"}, "dpop_signing_alg_values_supported": algs,
					"dpop_bound_access_tokens_required": f.required,
				})
				return
			}
			if r.URL.Path != "/api/private" && r.URL.Path != "/api/private-scoped" {
				next.ServeHTTP(w, r)
				return
			}
			scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			switch {
			case scheme == "" && f.required: // no credentials: the DPoP challenge alone, without an error code
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`DPoP algs=%q`, strings.Join(algs, " ")))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"message":"DPoP-bound token needed"}`))
				return
			case strings.EqualFold(scheme, "Bearer"):
				_, c, err := tokens.DecodeUnverified(tok)
				if err == nil && c["cnf"] != nil && !f.downgrade {
					if f.required {
						refuseDPoP(w, "invalid_token", "a DPoP-bound token needs the DPoP scheme")
					} else {
						refuse(w, http.StatusUnauthorized, "invalid_token", "a DPoP-bound token needs the DPoP scheme")
					}
					return
				}
				if f.required && (err != nil || c["cnf"] == nil) {
					refuseDPoP(w, "invalid_token", "DPoP-bound tokens only")
					return
				}
				if c["cnf"] != nil { // the downgrade flaw
					if c, ok2 := serve(w, r, tok); ok2 && scopeOK(w, r, c) {
						ok(w)
					}
					return
				}
				next.ServeHTTP(w, r)
				return
			case !strings.EqualFold(scheme, "DPoP"):
				next.ServeHTTP(w, r)
				return
			}
			c, good := serve(w, r, tok)
			if !good {
				return
			}
			proofs := r.Header.Values("DPoP")
			if len(proofs) == 0 && f.noProofOK {
				if scopeOK(w, r, c) {
					ok(w)
				}
				return
			}
			if len(proofs) == 0 || (len(proofs) > 1 && !f.firstProof) {
				refuseDPoP(w, "invalid_dpop_proof", "exactly one DPoP proof is needed")
				return
			}
			_, pc, err := tokens.DecodeUnverified(proofs[0])
			if err != nil {
				refuseDPoP(w, "invalid_dpop_proof", "malformed proof")
				return
			}
			method, htu, ath := r.Method, "http://"+r.Host+r.URL.Path, tok
			if s, _ := pc["htm"].(string); f.ownHTM {
				method = s
			}
			if s, _ := pc["htu"].(string); f.ownHTU {
				htu = s
			}
			if f.noATH {
				ath = ""
			}
			v := shared
			if f.noReplay {
				v = newVerifier()
			}
			proof, err := v.Verify(proofs[0], method, htu, ath)
			if err != nil && !slices.ContainsFunc(f.ignore, func(kind error) bool { return errors.Is(err, kind) }) {
				refuseDPoP(w, "invalid_dpop_proof", "bad proof")
				return
			}
			cnf, _ := c["cnf"].(map[string]any)
			if cnf == nil && !f.unboundOK {
				refuseDPoP(w, "invalid_token", "the token is not DPoP-bound")
				return
			}
			// proof is nil when a flaw ignored its error: such a server has no key to compare.
			if cnf != nil && !f.noJKT && proof != nil && cnf["jkt"] != proof.JKT {
				refuseDPoP(w, "invalid_dpop_proof", "the proof's key is not the token's")
				return
			}
			if scopeOK(w, r, c) {
				ok(w)
			}
		})
	}
}

// TestDPoPCasesCatchTheirFlaw runs the dpop and rfc9728 cases against a correct DPoP resource server and against
// one flaw at a time: each case must pass the first and fail exactly where its flaw is.
func TestDPoPCasesCatchTheirFlaw(t *testing.T) {
	t.Parallel()
	dpopOnly := regexp.MustCompile(`^(dpop|rfc9728)/`)
	rows := []struct {
		name  string
		flaws dpopFlaws
		force bool // --dpop
		fails []string
		skips []string
		check func(t *testing.T, results []Result)
	}{
		{name: "correct",
			check: func(t *testing.T, results []Result) {
				if r := resultOf(t, results, "dpop/htu-with-query"); r.Got != http.StatusOK || !strings.Contains(r.Detail, "legitimate") {
					t.Errorf("htu-with-query: got %d %q, want 200 with a note", r.Got, r.Detail)
				}
			}},
		{name: "correct, DPoP required", flaws: dpopFlaws{required: true}},
		{name: "serves a bound token without proof", flaws: dpopFlaws{noProofOK: true}, fails: []string{"dpop/no-proof"}},
		{name: "serves a bound token as Bearer", flaws: dpopFlaws{downgrade: true}, fails: []string{"dpop/downgrade-to-bearer"}},
		{name: "never compares cnf.jkt", flaws: dpopFlaws{noJKT: true}, fails: []string{"dpop/key-not-bound"}},
		{name: "serves unbound tokens with the DPoP scheme", flaws: dpopFlaws{unboundOK: true}, fails: []string{"dpop/unbound-token-as-dpop"}},
		{name: "trusts the proof's htm", flaws: dpopFlaws{ownHTM: true}, fails: []string{"dpop/htm-mismatch"}},
		{name: "trusts the proof's htu", flaws: dpopFlaws{ownHTU: true}, fails: []string{"dpop/htu-mismatch"}},
		{name: "an hour of iat window", flaws: dpopFlaws{wideIAT: true}, fails: []string{"dpop/iat-future", "dpop/iat-stale"}},
		{name: "no replay cache", flaws: dpopFlaws{noReplay: true}, fails: []string{"dpop/jti-replayed"}},
		{name: "never checks ath", flaws: dpopFlaws{noATH: true}, fails: []string{"dpop/ath-missing", "dpop/ath-wrong"}},
		{name: "checks the first of two proofs", flaws: dpopFlaws{firstProof: true}, fails: []string{"dpop/two-proofs"}},
		{name: "any alg", flaws: dpopFlaws{ignore: []error{dpop.ErrAlg, dpop.ErrSignature, dpop.ErrMalformed}},
			fails: []string{"dpop/alg-hs256", "dpop/alg-none"}},
		{name: "takes a private jwk", flaws: dpopFlaws{ignore: []error{dpop.ErrKey}}, fails: []string{"dpop/jwk-private"}},
		{name: "any typ", flaws: dpopFlaws{ignore: []error{dpop.ErrType}}, fails: []string{"dpop/typ-jwt"}},
		{name: "metadata for another resource", flaws: dpopFlaws{mdResource: "https://quickstarts/api"}, fails: []string{"rfc9728/metadata"}},
		{name: "no DPoP challenge", flaws: dpopFlaws{noChallenge: true}, fails: []string{
			"dpop/alg-hs256", "dpop/alg-none", "dpop/ath-missing", "dpop/ath-wrong", "dpop/htm-mismatch", "dpop/htu-mismatch",
			"dpop/iat-future", "dpop/iat-stale", "dpop/jti-replayed", "dpop/jwk-private", "dpop/key-not-bound", "dpop/no-proof",
			"dpop/two-proofs", "dpop/typ-jwt", "dpop/unbound-token-as-dpop",
		}, check: func(t *testing.T, results []Result) {
			t.Helper()
			for _, r := range results {
				if r.Verdict == Fail && r.Severity != Low {
					t.Errorf("%s: a missing challenge is a low finding, got %s", r.Case.ID(), r.Severity)
				}
			}
		}},
		// The real API's challenges still point at the document this flaw hides: a link to a 404, caught.
		{name: "no metadata, DPoP forced", flaws: dpopFlaws{noMetadata: true}, force: true,
			fails: []string{"rfc9728/challenge-points-to-metadata"}},
		{name: "no metadata", flaws: dpopFlaws{noMetadata: true}, skips: dpopIDs(),
			fails: []string{"rfc9728/challenge-points-to-metadata"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			st := newStack(t, dpopRS(row.flaws))
			env, err := Prepare(t.Context(), Config{
				API: st.apiURL, Issuer: st.issuer, Audience: testAudience, Scope: testScope, Origin: testOrigin,
				HTTP: st.hc, Leeway: testLeeway, LeewayGiven: true, DPoP: row.force,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = env.Close() })
			t.Parallel()
			results := NewRunner(WithFilter(dpopOnly)).Run(t.Context(), env)
			if got, want := ids(results, Fail), sorted(row.fails); !slices.Equal(got, want) {
				t.Errorf("failed cases\n got %v\nwant %v\n%s", got, want, describe(results))
			}
			skips := row.skips
			if !row.flaws.required && !slices.Contains(skips, "dpop/bearer-when-required") {
				skips = append(skips, "dpop/bearer-when-required")
			}
			if got, want := ids(results, Skip), sorted(skips); !slices.Equal(got, want) {
				t.Errorf("skipped cases\n got %v\nwant %v\n%s", got, want, describe(results))
			}
			if row.check != nil {
				row.check(t, results)
			}
		})
	}
}

// dpopIDs are the IDs of every dpop case.
func dpopIDs() []string {
	var out []string
	for _, c := range Matrix() {
		if c.Category == DPoP {
			out = append(out, c.ID())
		}
	}
	return out
}
