package environ

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/lsgi/lsgi/httpsyntax"
)

// Proxies is the set of peers trusted to report the client through
// X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host, as gunicorn's
// forwarded_allow_ips. The zero value trusts no one.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies reads addresses and CIDR prefixes ("127.0.0.1", "::1",
// "10.0.0.0/8"). "*" trusts every peer, which is only safe when the server
// cannot be reached but through the proxy.
func ParseProxies(list []string) (Proxies, error) {
	var p Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case s == "*":
			p.prefixes = append(p.prefixes, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
		case strings.Contains(s, "/"):
			prefix, err := netip.ParsePrefix(s)
			if err != nil {
				return Proxies{}, fmt.Errorf("environ: trusted proxy %q: %w", s, err)
			}
			p.prefixes = append(p.prefixes, prefix.Masked())
		default:
			addr, err := netip.ParseAddr(s)
			if err != nil {
				return Proxies{}, fmt.Errorf("environ: trusted proxy %q: %w", s, err)
			}
			p.prefixes = append(p.prefixes, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
		}
	}
	return p, nil
}

// Trusts reports whether the peer at remoteAddr ("ip:port") is trusted. A
// Unix socket peer ("@" or "") is a process on this machine, so it is
// trusted exactly when loopback is.
func (p Proxies) Trusts(remoteAddr string) bool {
	if len(p.prefixes) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	if host == "@" || host == "" {
		host = "127.0.0.1"
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, prefix := range p.prefixes {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// IsLoopback reports whether addr, a peer's address with or without its
// port ("127.0.0.1", "[::1]:5000": REMOTE_ADDR or a transport's remote
// address), is a loopback address, 127.0.0.0/8 or ::1. Development error
// pages are shown to such clients only.
func IsLoopback(addr string) bool {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.IsLoopback()
}

// ErrConflictingProxyHeaders is returned by [Proxies.Apply] when a trusted
// proxy sends a scheme header with several different values: the request is
// ambiguous, so it gets 400 (gunicorn's InvalidSchemeHeaders).
var ErrConflictingProxyHeaders = errors.New("environ: conflicting X-Forwarded-Proto values from a trusted proxy")

// Apply rewrites vars, built by [Build] for a request from the peer at
// remoteAddr, with what a trusted proxy
// reports: REMOTE_ADDR from the last X-Forwarded-For entry (the address
// the proxy itself saw; never the leftmost, which the client chooses), with
// REMOTE_PORT dropped since it was the proxy's; lsgi.url_scheme and HTTPS
// from X-Forwarded-Proto; SERVER_NAME and SERVER_PORT from
// X-Forwarded-Host. The original peer is kept as lsgi.proxy_addr. From an
// untrusted peer the headers change nothing: they stay visible only as
// HTTP_X_FORWARDED_*. The headers are read from vars, where repeated
// fields are already joined.
func (p Proxies) Apply(vars Vars, remoteAddr string) (Vars, error) {
	forFor, hasFor, proto, hasProto, fwdHost := forwardedVars(vars)
	if !hasFor && !hasProto && fwdHost == "" || !p.Trusts(remoteAddr) {
		return vars, nil
	}
	if hasProto {
		scheme := ""
		for s := range strings.SplitSeq(proto, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if scheme != "" && s != scheme {
				return vars, ErrConflictingProxyHeaders
			}
			scheme = s
		}
		switch scheme {
		case "https":
			vars = set(vars, schemeKey, "https")
			vars = set(vars, "HTTPS", "on")
		case "http":
			vars = set(vars, schemeKey, "http")
			vars = unset(vars, "HTTPS")
		}
	}
	if hasFor {
		last := forFor
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		if addr, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(last), "[]")); err == nil {
			if orig, ok := vars.Get("REMOTE_ADDR"); ok {
				vars = set(vars, "lsgi.proxy_addr", orig)
			}
			vars = set(vars, "REMOTE_ADDR", addr.Unmap().String())
			vars = unset(vars, "REMOTE_PORT")
		}
	}
	if fwdHost != "" {
		if i := strings.IndexByte(fwdHost, ','); i >= 0 {
			fwdHost = fwdHost[:i]
		}
		fwdHost = strings.TrimSpace(fwdHost)
		host, port, err := net.SplitHostPort(fwdHost)
		if err != nil {
			host, port = fwdHost, ""
		}
		if host != "" && validHost(host) {
			vars = set(vars, "SERVER_NAME", host)
			if port == "" {
				port = "80"
				if v, _ := vars.Get(schemeKey); v == "https" {
					port = "443"
				}
			}
			if httpsyntax.IsDecimal(port) {
				vars = set(vars, "SERVER_PORT", port)
			}
		}
	}
	return vars, nil
}

// forwardedVars finds X-Forwarded-For, -Proto and -Host among vars, in one
// pass since every request goes through it.
func forwardedVars(vars Vars) (forFor string, hasFor bool, proto string, hasProto bool, host string) {
	const prefix = "HTTP_X_FORWARDED_"
	for i := range vars {
		name := vars[i].Name
		if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
			continue
		}
		switch name[len(prefix):] {
		case "FOR":
			forFor, hasFor = vars[i].Value, true
		case "PROTO":
			proto, hasProto = vars[i].Value, true
		case "HOST":
			host = vars[i].Value
		}
	}
	return forFor, hasFor, proto, hasProto, host
}

// validHost accepts a host name or address literal with nothing that could
// break a URL rebuilt from it.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._:[]", c) >= 0) {
			return false
		}
	}
	return true
}

func set(vars Vars, name, value string) Vars {
	for i := range vars {
		if vars[i].Name == name {
			vars[i].Value = value
			return vars
		}
	}
	return append(vars, Var{Name: name, Value: value})
}

func unset(vars Vars, name string) Vars {
	for i := range vars {
		if vars[i].Name == name {
			return append(vars[:i], vars[i+1:]...)
		}
	}
	return vars
}
