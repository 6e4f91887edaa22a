package auth

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokencheck/tokencheck/internal/testissuer"
)

// referenceClaims decodes with encoding/json and golang-jwt's own types, matching claim names exactly (through a
// map), as the reference the reflection-free decoder must agree with whenever it accepts the input.
func referenceClaims(data []byte) (Claims, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Claims{}, err
	}
	var c Claims
	var err error
	field := func(name string, into any) {
		if v, ok := raw[name]; ok && err == nil {
			err = json.Unmarshal(v, into)
		}
	}
	field("iss", &c.Issuer)
	field("sub", &c.Subject)
	field("jti", &c.ID)
	field("scope", &c.Scope)
	field("aud", &c.Audience)
	field("permissions", &c.Permissions)
	field("exp", &c.ExpiresAt)
	field("nbf", &c.NotBefore)
	field("iat", &c.IssuedAt)
	if v, ok := raw["cnf"]; ok && err == nil && string(v) != "null" {
		// Through a map too, so only the exact name jkt counts.
		var members map[string]json.RawMessage
		if err = json.Unmarshal(v, &members); err == nil {
			c.Confirmation = &Confirmation{}
			if j, ok := members["jkt"]; ok {
				err = json.Unmarshal(j, &c.Confirmation.JKT)
			}
		}
	}
	return c, err
}

var claimsSeeds = []string{
	`{"iss":"https://t/","sub":"a@clients","aud":"https://api","iat":1700000000,"exp":1700003600,"scope":"read:messages","azp":"x","gty":"client-credentials"}`,
	`{"aud":["a","b"],"permissions":["read:messages"],"exp":1.7e9,"nbf":-5.5}`,
	`{"iss":"caf\u00e9\n","sub":"\"q\"","aud":[],"permissions":null,"scope":null,"exp":null}`,
	`{"nested":{"a":[1,{"b":"}"}]},"iss":"x","iss":"y","x":true,"y":null,"z":-1e-3}`,
	` { "exp" : 1 , "aud" : "é" } `,
	`{"cnf":{"jkt":"abc","x5t#S256":"x","JKT":"no"},"cnf":{"jkt":"last"}}`, `{"cnf":null}`, `{"cnf":{}}`, `{"cnf":"s"}`,
	`{"cnf":{"jkt":1}}`, `{"aud":[1]}`, `{"exp":"1"}`, `{"iss":5}`, `{"permissions":["a",2]}`, `{"ISS":"x"}`, `[]`, `"s"`, `{"exp":1e400}`,
}

func TestClaimsUnmarshalMatchesReference(t *testing.T) {
	for _, s := range claimsSeeds {
		checkClaimsDecode(t, []byte(s))
	}
	// Through golang-jwt as a real token would go.
	var c Claims
	if err := json.Unmarshal([]byte(claimsSeeds[0]), &c); err != nil || c.Audience[0] != "https://api" || c.ExpiresAt.Unix() != 1700003600 {
		t.Fatalf("decode through encoding/json: %+v, %v", c, err)
	}
	if _, err := jwt.NewParser().ParseWithClaims("x.y.z", &Claims{}, nil); err == nil {
		t.Fatal("garbage parsed")
	}
}

func checkClaimsDecode(t *testing.T, data []byte) {
	t.Helper()
	if !json.Valid(data) {
		return // encoding/json never hands invalid JSON to UnmarshalJSON
	}
	var got Claims
	err := got.UnmarshalJSON(data)
	want, refErr := referenceClaims(data)
	if err != nil {
		return // stricter than the reference is allowed: it only rejects
	}
	if refErr != nil {
		t.Fatalf("%s: accepted, reference rejects: %v", data, refErr)
	}
	for i, p := range []*jwt.NumericDate{got.ExpiresAt, got.NotBefore, got.IssuedAt} {
		if p != nil && p != &got.dates[i] {
			t.Fatalf("%s: date %d is not stored with the claims", data, i)
		}
	}
	// dates is storage only: compare the values through pointers to copies, as the reference has them.
	norm := got
	norm.dates = [3]jwt.NumericDate{}
	for i, p := range []**jwt.NumericDate{&norm.ExpiresAt, &norm.NotBefore, &norm.IssuedAt} {
		if *p != nil {
			v := got.dates[i]
			*p = &v
		}
	}
	if !reflect.DeepEqual(norm, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", data, got, want)
	}
}

func FuzzClaimsUnmarshal(f *testing.F) {
	for _, s := range claimsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkClaimsDecode(t, data) })
}

// TestClaimsReuseConfiguredStrings: an iss or aud equal to a configured one is that string, not a copy, so a full
// cache holds it once.
func TestClaimsReuseConfiguredStrings(t *testing.T) {
	iss, aud := "https://intern.example/", "https://intern.example/api"
	c := Claims{interns: newInterns([]string{iss}, []string{aud})}
	if err := c.UnmarshalJSON([]byte(`{"iss":"https://intern.example/","aud":["https://intern.example/api","other"]}`)); err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(c.Issuer) != unsafe.StringData(iss) || unsafe.StringData(c.Audience[0]) != unsafe.StringData(aud) {
		t.Fatal("configured iss/aud decoded as copies")
	}
	if c.Audience[1] != "other" {
		t.Fatalf("aud %v", c.Audience)
	}
}

// TestValidatedClaimsShareConfiguredStrings: through Validate, a token's iss and aud are the validator's own
// configured strings, and two validators keep separate sets.
func TestValidatedClaimsShareConfiguredStrings(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, nil)
	other := newValidator(t, iss, func(c *Config) { c.Audiences = []string{"https://other.example/api"} })
	waitReady(t, v)
	claims, err := v.Validate(context.Background(), iss.Token(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(claims.Issuer) != unsafe.StringData(v.cfg.Issuers[0]) ||
		unsafe.StringData(claims.Audience[0]) != unsafe.StringData(v.cfg.Audiences[0]) {
		t.Error("validated iss/aud are copies, not the configured strings")
	}
	if _, ok := other.interns[testissuer.Audience]; ok {
		t.Error("a validator's intern set holds another validator's audience")
	}
	if claims.interns != nil {
		t.Error("decoded claims keep the validator's intern set")
	}
}
