package outbound

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy decides which destinations a [Client] may reach. It makes two
// checks:
//
//  1. The host of every URL, the first one and each redirect's: with no
//     patterns, any host passes; otherwise the host must match a name
//     pattern, "*", or (for an address such as 127.0.0.1 or [::1]) an
//     address pattern.
//  2. The address of every connection, after DNS: a loopback, private,
//     link-local, unspecified, multicast or otherwise special address is
//     refused unless an address pattern covers it. Name patterns never
//     open an internal address: a name can be made to resolve to
//     anything.
//
// Patterns are host names ("api.example.com"), subdomain wildcards
// ("*.example.com": any name below example.com, not example.com itself),
// "*" (any name), addresses ("127.0.0.1", "::1") and CIDR prefixes
// ("10.0.0.0/8", "fd00::/8"). Names are compared without case and without
// a trailing dot. Ports are not restricted.
type Policy struct {
	restricted bool // patterns were given: hosts must match one
	anyName    bool // "*"
	names      map[string]bool
	suffixes   []string // ".example.com" for "*.example.com"
	prefixes   []netip.Prefix
}

// ParsePolicy builds a Policy from patterns; empty strings are skipped. It
// fails on a pattern that is neither a name nor an address.
func ParsePolicy(patterns []string) (*Policy, error) {
	p := &Policy{names: map[string]bool{}}
	for _, raw := range patterns {
		pat := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(raw), "."))
		if pat == "" {
			continue
		}
		p.restricted = true
		switch {
		case pat == "*":
			p.anyName = true
		case strings.Contains(pat, "/"):
			pre, err := netip.ParsePrefix(pat)
			if err != nil {
				return nil, fmt.Errorf("outbound: allow pattern %q: %w", raw, err)
			}
			p.prefixes = append(p.prefixes, unmapPrefix(pre.Masked()))
		case strings.HasPrefix(pat, "*."):
			if !validName(pat[2:]) {
				return nil, fmt.Errorf("outbound: allow pattern %q: not a host name after *.", raw)
			}
			p.suffixes = append(p.suffixes, pat[1:])
		default:
			if addr, err := netip.ParseAddr(strings.Trim(pat, "[]")); err == nil {
				addr = addr.Unmap()
				p.prefixes = append(p.prefixes, netip.PrefixFrom(addr, addr.BitLen()))
				continue
			}
			if !validName(pat) {
				return nil, fmt.Errorf("outbound: allow pattern %q: not a host name, address or CIDR prefix", raw)
			}
			p.names[pat] = true
		}
	}
	return p, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n into a.b.c.d/(n-96), so that it
// matches the unmapped addresses the checks compare.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// validName accepts the letters, digits, '-', '_' and '.' of a DNS name.
func validName(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// RefusedError is a destination the policy refused.
type RefusedError struct {
	Host   string // the URL's host, or the address dialed
	Reason string // "not in the allow list", "a loopback address", ...
	Addr   string // the address dialed; "" when the URL's host was refused
}

func (e *RefusedError) Error() string {
	if e.Addr != "" {
		return fmt.Sprintf("outbound: destination refused: %s is %s", e.Addr, e.Reason)
	}
	return fmt.Sprintf("outbound: destination refused: %s is %s", e.Host, e.Reason)
}

// CheckHost is the first check: may a URL name this host (a name, or an
// address with or without brackets)?
func (p *Policy) CheckHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if addr, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		addr = addr.Unmap()
		if !p.restricted || p.anyName || p.coversAddr(addr) {
			return nil
		}
		return &RefusedError{Host: host, Reason: "not in the allow list"}
	}
	if !p.restricted || p.anyName || p.names[h] {
		return nil
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(h, s) {
			return nil
		}
	}
	return &RefusedError{Host: host, Reason: "not in the allow list"}
}

// CheckAddr is the second check: may a connection go to addr?
func (p *Policy) CheckAddr(addr netip.Addr) error {
	addr = addr.Unmap()
	if p.coversAddr(addr) {
		return nil
	}
	if reason := Special(addr); reason != "" {
		return &RefusedError{Host: addr.String(), Addr: addr.String(), Reason: reason}
	}
	return nil
}

func (p *Policy) coversAddr(addr netip.Addr) bool {
	for _, pre := range p.prefixes {
		if pre.Contains(addr) {
			return true
		}
	}
	return false
}

// specialBlocks are the ranges, beyond those netip classifies, that lead
// into private networks or nowhere public (IANA special-purpose address
// registries).
var specialBlocks = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Special says why addr is not a public unicast address ("a loopback
// address", ...), or returns "" for one that is. An IPv6 address that
// embeds an IPv4 address (NAT64, 6to4) is judged by the IPv4 address.
func Special(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast():
		return "a link-local address"
	case addr.IsMulticast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, b := range specialBlocks {
		if b.prefix.Contains(addr) {
			return b.reason
		}
	}
	if addr.Is6() {
		b := addr.As16()
		var embedded netip.Addr
		switch {
		case nat64.Contains(addr):
			embedded = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(addr):
			embedded = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if embedded.IsValid() {
			if r := Special(embedded); r != "" {
				return r + " inside an IPv6 address"
			}
		}
	}
	return ""
}
