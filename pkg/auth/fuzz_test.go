package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a.b.c ", "Bearer", "Basic x", "", "Bearer\ta b", "BEARER \x00", "Bearerx y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := bearerToken(header)
		if ok != (tok != "") {
			t.Fatalf("ok %v with token %q", ok, tok)
		}
		if !ok {
			return
		}
		if !strings.EqualFold(header[:6], "bearer") || (header[6] != ' ' && header[6] != '\t') {
			t.Fatalf("accepted %q without the Bearer scheme", header)
		}
		if strings.Trim(tok, " \t") != tok || !strings.Contains(header, tok) {
			t.Fatalf("token %q from %q is not the trimmed remainder", tok, header)
		}
	})
}

func FuzzExtractToken(f *testing.F) {
	f.Add("Bearer a.b.c", "access_token=x", "access_token=y", "application/x-www-form-urlencoded")
	f.Add("", "", "", "")
	f.Add("Bearer a", "a=%zz", "access_token=%", "text/plain")
	f.Fuzz(func(t *testing.T, auth, query, body, contentType string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/", RawQuery: query}, Header: http.Header{}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		r.Header.Set("Content-Type", contentType)
		r.Body = http.NoBody
		if body != "" {
			r.Body = readCloser{strings.NewReader(body)}
		}
		tok, err := extractToken(r)
		if err != nil && tok != "" {
			t.Fatal("token returned with an error")
		}
		if want, ok := bearerToken(auth); err == nil && ok && tok != want {
			t.Fatalf("token %q, want %q", tok, want)
		}
	})
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func FuzzValidate(f *testing.F) {
	iss := testissuer.New(f)
	v := newValidator(f, iss, nil)
	waitReady(f, v)
	good := iss.Token(f, nil)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Validate(context.Background(), token)
		if (c == nil) == (err == nil) {
			t.Fatalf("claims %v with error %v", c, err)
		}
		if err != nil && ReasonOf(err) == "" {
			t.Fatalf("error without a reason: %v", err)
		}
		if err == nil && token != good {
			t.Fatalf("accepted a token that differs from the signed one: %q", token)
		}
	})
}
