package outbound

import (
	"errors"
	"net/netip"
	"testing"
)

func TestSpecial(t *testing.T) {
	for _, tc := range []struct {
		desc, addr string
		special    bool
	}{
		{"public IPv4", "93.184.216.34", false},
		{"public IPv6", "2606:2800:220:1:248:1893:25c8:1946", false},
		{"loopback", "127.0.0.1", true},
		{"loopback, other", "127.3.2.1", true},
		{"IPv6 loopback", "::1", true},
		{"unspecified", "0.0.0.0", true},
		{"IPv6 unspecified", "::", true},
		{"this network", "0.1.2.3", true},
		{"private 10/8", "10.1.2.3", true},
		{"private 172.16/12", "172.31.255.255", true},
		{"just outside 172.16/12", "172.32.0.1", false},
		{"private 192.168/16", "192.168.0.10", true},
		{"cloud metadata, link-local", "169.254.169.254", true},
		{"CGNAT", "100.100.100.200", true},
		{"unique local IPv6", "fd12:3456::1", true},
		{"link-local IPv6", "fe80::1", true},
		{"multicast", "224.0.0.1", true},
		{"broadcast", "255.255.255.255", true},
		{"IPv4-mapped loopback", "::ffff:127.0.0.1", true},
		{"IPv4-mapped public", "::ffff:93.184.216.34", false},
		{"NAT64 of a private address", "64:ff9b::10.0.0.1", true},
		{"NAT64 of a public address", "64:ff9b::93.184.216.34", false},
		{"6to4 of loopback", "2002:7f00:1::1", true},
		{"IPv4-compatible", "::127.0.0.1", true},
		{"site-local", "fec0::1", true},
	} {
		got := Special(netip.MustParseAddr(tc.addr))
		if (got != "") != tc.special {
			t.Errorf("%s: Special(%s) = %q, want special %v", tc.desc, tc.addr, got, tc.special)
		}
	}
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		patterns []string
		host     string // checked with CheckHost
		addr     string // checked with CheckAddr, if set
		ok       bool
	}{
		{"no patterns: public name", nil, "example.com", "93.184.216.34", true},
		{"no patterns: loopback address", nil, "127.0.0.1", "127.0.0.1", false},
		{"no patterns: name resolving to loopback", nil, "localhost", "127.0.0.1", false},
		{"exact name", []string{"api.example.com"}, "API.Example.com.", "93.184.216.34", true},
		{"another name", []string{"api.example.com"}, "example.com", "", false},
		{"subdomain wildcard", []string{"*.example.com"}, "a.b.example.com", "", true},
		{"wildcard excludes the apex", []string{"*.example.com"}, "example.com", "", false},
		{"wildcard is not a suffix match", []string{"*.example.com"}, "badexample.com", "", false},
		{"allowed name still cannot reach loopback", []string{"localhost"}, "localhost", "127.0.0.1", false},
		{"address pattern opens the address", []string{"127.0.0.1"}, "127.0.0.1", "127.0.0.1", true},
		{"address pattern with brackets", []string{"[::1]"}, "[::1]", "::1", true},
		{"CIDR pattern", []string{"10.0.0.0/8"}, "10.9.8.7", "10.9.8.7", true},
		{"mapped CIDR pattern", []string{"::ffff:10.0.0.0/104"}, "10.9.8.7", "10.9.8.7", true},
		{"CIDR does not allow names", []string{"10.0.0.0/8"}, "example.com", "", false},
		{"star allows names", []string{"*"}, "example.com", "93.184.216.34", true},
		{"star does not open loopback", []string{"*"}, "127.0.0.1", "127.0.0.1", false},
		{"star and an address", []string{"*", "127.0.0.1"}, "localhost", "127.0.0.1", true},
		{"mapped address dialed", []string{"127.0.0.1"}, "127.0.0.1", "::ffff:127.0.0.1", true},
	} {
		p, err := ParsePolicy(tc.patterns)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		err = p.CheckHost(tc.host)
		if err == nil && tc.addr != "" {
			err = p.CheckAddr(netip.MustParseAddr(tc.addr))
		}
		var refused *RefusedError
		if (err == nil) != tc.ok || (err != nil && !errors.As(err, &refused)) {
			t.Errorf("%s: %v, want ok %v", tc.desc, err, tc.ok)
		}
	}
}

func TestParsePolicyRefusesNonsense(t *testing.T) {
	for _, tc := range []struct {
		desc, pattern string
	}{
		{"URL", "http://example.com"},
		{"bad CIDR", "10.0.0.0/33"},
		{"wildcard in the middle", "a.*.com"},
		{"empty label", "*..example.com"},
		{"space inside", "exa mple.com"},
	} {
		if _, err := ParsePolicy([]string{tc.pattern}); err == nil {
			t.Errorf("%s: %q accepted", tc.desc, tc.pattern)
		}
	}
	if p, err := ParsePolicy([]string{"", " "}); err != nil || p.restricted {
		t.Errorf("empty patterns: %v, restricted %v", err, p.restricted)
	}
}
