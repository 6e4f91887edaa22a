package local

import (
	"net"
	"net/url"
	"strconv"
	"testing"
)

// TestAddressesAgree: each URL names the port its listener default uses, so changing one without the other fails.
func TestAddressesAgree(t *testing.T) {
	port := func(raw string) string {
		t.Helper()
		u, err := url.Parse(raw)
		if err != nil || u.Port() == "" {
			t.Fatalf("%q: no port (%v)", raw, err)
		}
		return u.Port()
	}
	addrPort := func(addr string) string {
		t.Helper()
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct{ name, got, want string }{
		{"APIURL", port(APIURL), strconv.Itoa(APIPort)},
		{"IssuerURL", port(IssuerURL), addrPort(TenantAddr)},
		{"IssuerURLTLS", port(IssuerURLTLS), addrPort(TenantAddr)},
		{"AppOrigin", port(AppOrigin), addrPort(AppAddr)},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: port %s, want %s", c.name, c.got, c.want)
		}
	}
}
