package httpcall

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	type ch = Challenge
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		header string
		want   []Challenge
		bad    bool
	}{
		{name: "empty", header: "", want: nil},
		{name: "blank", header: "  ,  ", want: nil},
		{name: "bare scheme", header: "Bearer", want: []ch{{Scheme: "Bearer", Params: p()}}},
		{name: "realm only", header: `Bearer realm="api"`, want: []ch{{Scheme: "Bearer", Params: p("realm", "api")}}},
		{name: "RFC 6750 error", header: `Bearer realm="api", error="invalid_token", error_description="token is expired"`,
			want: []ch{{Scheme: "Bearer", Params: p("realm", "api", "error", "invalid_token", "error_description", "token is expired")}}},
		{name: "insufficient scope with token values", header: `Bearer error=insufficient_scope,scope="read:messages"`,
			want: []ch{{Scheme: "Bearer", Params: p("error", "insufficient_scope", "scope", "read:messages")}}},
		{name: "case-insensitive names", header: `bEaReR REALM="api", Error="x"`,
			want: []ch{{Scheme: "bEaReR", Params: p("realm", "api", "error", "x")}}},
		{name: "escapes", header: `Newauth realm="apps", type=1, title="Login to \"apps\" \\ok"`,
			want: []ch{{Scheme: "Newauth", Params: p("realm", "apps", "type", "1", "title", `Login to "apps" \ok`)}}},
		{name: "several challenges (RFC 7235 example)", header: `Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
			want: []ch{
				{Scheme: "Newauth", Params: p("realm", "apps", "type", "1", "title", `Login to "apps"`)},
				{Scheme: "Basic", Params: p("realm", "simple")},
			}},
		{name: "token68", header: "Negotiate a87421000492aa874209af8bc028==", want: []ch{{Scheme: "Negotiate", Params: p(), Token68: "a87421000492aa874209af8bc028=="}}},
		{name: "token68 then challenge", header: `Negotiate abc, Bearer realm="x"`,
			want: []ch{{Scheme: "Negotiate", Params: p(), Token68: "abc"}, {Scheme: "Bearer", Params: p("realm", "x")}}},
		{name: "bare schemes", header: "Basic, Bearer", want: []ch{{Scheme: "Basic", Params: p()}, {Scheme: "Bearer", Params: p()}}},
		{name: "whitespace around =", header: "Bearer realm = \"a b\" ,\terror = x", want: []ch{{Scheme: "Bearer", Params: p("realm", "a b", "error", "x")}}},
		{name: "empty quoted value", header: `Bearer realm=""`, want: []ch{{Scheme: "Bearer", Params: p("realm", "")}}},
		{name: "comma inside quotes", header: `Bearer error_description="a, b=c", realm=x`, want: []ch{{Scheme: "Bearer", Params: p("error_description", "a, b=c", "realm", "x")}}},
		{name: "unterminated quote", header: `Bearer realm="api`, bad: true},
		{name: "dangling escape", header: `Bearer realm="api\`, bad: true},
		{name: "token68 that looks like a param", header: `Bearer realm=`, want: []ch{{Scheme: "Bearer", Params: p(), Token68: "realm="}}},
		{name: "no value", header: `Bearer error="x", realm=`, bad: true},
		{name: "duplicate param", header: `Bearer realm="a", REALM="b"`, bad: true},
		{name: "control char", header: "Bearer realm=\"a\x01\"", bad: true},
		{name: "starts with =", header: `="x"`, bad: true},
		{name: "junk after value", header: `Bearer realm="a" b`, bad: true},
		{name: "quoted scheme", header: `"Bearer"`, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseChallenges(tc.header)
			if tc.bad {
				if err == nil || !errors.Is(err, ErrMalformedChallenge) {
					t.Fatalf("ParseChallenges(%q) = %+v, %v; want ErrMalformedChallenge", tc.header, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseChallenges(%q): %v", tc.header, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseChallenges(%q)\n got %+v\nwant %+v", tc.header, got, tc.want)
			}
		})
	}
}

func TestChallengeHelpers(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm="x"`)
	h.Add("WWW-Authenticate", `bearer realm="api", error="invalid_token"`)
	cs, err := Challenges(h)
	if err != nil || len(cs) != 2 {
		t.Fatalf("Challenges = %+v, %v", cs, err)
	}
	if !cs[1].Is("Bearer") || cs[1].Is("Basic") {
		t.Error("Is must compare schemes case-insensitively")
	}
	if v, ok := cs[1].Param("ERROR"); !ok || v != "invalid_token" {
		t.Errorf("Param(ERROR) = %q, %v", v, ok)
	}
	if _, ok := cs[1].Param("scope"); ok {
		t.Error("Param(scope) found a missing parameter")
	}
	if got, _ := Challenges(http.Header{}); got != nil {
		t.Errorf("no header gave %+v", got)
	}
	want := `Bearer error="a \"q\" \\", realm="api"`
	if s := (Challenge{Scheme: "Bearer", Params: map[string]string{"realm": "api", "error": `a "q" \`}}).String(); s != want {
		t.Errorf("String = %s, want %s", s, want)
	}
}

// FuzzParseChallenges checks the parser never panics and that whatever it accepts survives a format/parse round
// trip unchanged.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="api"`,
		`Bearer realm="api", error="invalid_token", error_description="token is expired"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate abc==, Basic`,
		`Bearer error="insufficient_scope", scope="read:messages"`,
		`,,,`, `"`, `a=b`, `Bearer realm="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		cs, err := ParseChallenges(header)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", header)
			}
			again, err := ParseChallenges(c.String())
			if err != nil || len(again) != 1 {
				t.Fatalf("round trip of %q (from %q): %+v, %v", c.String(), header, again, err)
			}
			if again[0].Scheme != c.Scheme || again[0].Token68 != c.Token68 || !reflect.DeepEqual(again[0].Params, c.Params) {
				t.Fatalf("round trip changed %+v into %+v", c, again[0])
			}
		}
	})
}
