// This file is the server side of the gateway: it turns a request into
// environ variables, after net/http/cgi's Handler.ServeHTTP and werkzeug's
// WSGIRequestHandler.make_environ.

package environ

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Var is one environ variable: a CGI meta-variable or an "lsgi." string
// extension.
type Var struct{ Name, Value string }

// Vars is an ordered list of variables; [Build] appends to it so that callers
// can reuse a slice.
type Vars []Var

// Get returns the value of name and whether it is present.
func (v Vars) Get(name string) (string, bool) {
	for i := range v {
		if v[i].Name == name {
			return v[i].Value, true
		}
	}
	return "", false
}

// Request is what [Build] needs to know about one request, with no type of
// any HTTP library in it: a transport fills it from whatever it parsed.
// [RequestFromHTTP] fills it from an *http.Request.
type Request struct {
	// Method is the method exactly as received; "" means GET.
	Method string

	// Target is the request target exactly as received, the
	// REQUEST_URI; "" when unknown.
	Target string

	// Path is the target's path in escaped (raw) form, starting with '/':
	// "/a%20b". A request whose target has no path ("*", a CONNECT
	// authority) leaves it "", and Build rejects it.
	Path string

	// Query is the raw query, without the '?'.
	Query string

	// Proto is the protocol, "HTTP/1.1" say; "" means HTTP/1.1.
	Proto string

	// Host is the authority the request is for: the Host field, or the
	// authority of an absolute-form target (RFC 9112 3.2.2).
	Host string

	// RemoteAddr is the peer's address, "ip:port"; "@" or "" for a Unix
	// socket peer.
	RemoteAddr string

	// LocalAddr is the address the request was received on, nil if
	// unknown. It gives SERVER_NAME and SERVER_PORT unless the [Gateway]
	// names them.
	LocalAddr net.Addr

	// TLS is set for a request received over TLS.
	TLS bool

	// Chunked is set when the body is framed by Transfer-Encoding, whose
	// decoded length is unknown: the request then has no CONTENT_LENGTH.
	Chunked bool

	// Header holds the header fields; nil means none.
	Header Header
}

// Header is a request's header, seen one field at a time, so that a
// transport needs no map of its own to describe it.
type Header interface {
	// VisitFields calls v.Field once for each field line, in the order
	// the fields were received.
	VisitFields(v FieldVisitor)
}

// FieldVisitor receives the fields of a [Header].
type FieldVisitor interface {
	// Field receives one field. name need only stay valid during the call
	// (a transport may pass a view of its read buffer); value is kept.
	Field(name, value string)
}

// Gateway describes what the front end knows about a request that the
// request itself does not say: the per-transport differences of wsgiref's
// handlers, as data. The zero value is ready to use, and a nil *Gateway
// means the zero value. A transport attaches one to an *http.Request with
// [WithGateway]; the host reads it with [GatewayOf].
type Gateway struct {
	// ServerSoftware is SERVER_SOFTWARE, for example "lsgi/0.1.0".
	// The variable is omitted when it is "".
	ServerSoftware string

	// ServerName is SERVER_NAME. When it is "", the host of the listener
	// address ([Request.LocalAddr]) is used, with an IPv6 address in
	// brackets as RFC 3875 4.1.14 writes it, else "localhost".
	ServerName string

	// ServerPort is SERVER_PORT. When it is "", the port of the listener
	// address is used, else "443" for TLS and "80" otherwise.
	ServerPort string

	// Vars are further variables, appended after the standard ones: the
	// CGI variables a front server passed (REMOTE_USER, AUTH_TYPE), or
	// an embedding program's extensions, which carry a dotted prefix
	// ("myapp.user").
	Vars Vars

	// RunOnce says the process serves this one request and exits (CGI).
	// It is not a string variable: Build ignores it, and the Lua bridge
	// makes it lsgi.run_once.
	RunOnce bool
}

// ErrNotMounted is returned by [Build] when scriptName is not a path-segment
// prefix of the request's escaped path.
var ErrNotMounted = errors.New("environ: request path is not under the mount prefix")

// ErrBadTarget is returned by [Build] when the request target yields no
// usable path: "*", a CONNECT authority, an opaque URI, a target containing
// '#', or a malformed percent-escape. The client is at fault (400).
var ErrBadTarget = errors.New("environ: bad request target")

// Fixed names and values, kept as constants so that no call builds them.
const (
	gatewayInterface = "CGI/1.1"
	schemeKey        = "lsgi.url_scheme"
)

// fixedVars is the most variables Build emits besides the headers; it sizes
// the slice so that appending does not grow it twice.
const fixedVars = 15

// Build appends the variables of r to dst and returns the extended slice.
//
// scriptName is the mount prefix in escaped (raw) form, exactly as the host
// matched it against r.Path: "" for the root, otherwise "/name" without a
// trailing slash. gw may be nil.
//
// Build returns an error wrapping [ErrNotMounted] when scriptName is not ""
// and the escaped path neither equals scriptName nor starts with
// scriptName+"/" (so "/application" is not under "/app"), one wrapping
// [ErrBadTarget] when the request has no usable path, and a plain error when
// scriptName itself is malformed. On error dst is returned unchanged.
//
// Header variables follow the other variables, in no particular order, and
// gw.Vars come last. Existing entries of dst are not looked at.
func Build(dst Vars, r *Request, scriptName string, gw *Gateway) (Vars, error) {
	if gw == nil {
		gw = &Gateway{}
	}
	scriptDecoded, pathInfo, err := splitPath(r, scriptName)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = slices.Grow(dst, fixedVars+8+len(gw.Vars))
	method := r.Method
	if method == "" {
		method = "GET" // as net/http: "an empty string means GET"
	}
	dst = append(dst,
		Var{"REQUEST_METHOD", method},
		Var{"SCRIPT_NAME", scriptDecoded},
		Var{"PATH_INFO", pathInfo},
		Var{"QUERY_STRING", r.Query},
	)
	if r.Target != "" {
		dst = append(dst, Var{"REQUEST_URI", r.Target})
	}
	dst = appendServer(dst, r, gw)
	dst = appendRemote(dst, r)
	// Host is not a header field here (net/http moves it to r.Host), and
	// for an absolute-form target it is the URI's authority (docs/SPEC.md
	// 9.3).
	if r.Host != "" {
		dst = append(dst, Var{"HTTP_HOST", r.Host})
	}
	dst = appendHeaders(dst, start, r)
	return append(dst, gw.Vars...), nil
}

// splitPath checks the request's path against the mount prefix and returns
// SCRIPT_NAME and PATH_INFO, both decoded.
func splitPath(r *Request, scriptName string) (script, pathInfo string, err error) {
	script, err = mountPrefix(scriptName)
	if err != nil {
		return "", "", err
	}
	// A request target has no fragment (RFC 9112 3.2), but a parser may
	// keep a '#' as part of the path or query. Reject it rather than pass
	// a fragment to the app or route on a path the app does not see.
	if strings.IndexByte(r.Target, '#') >= 0 {
		return "", "", fmt.Errorf("%w %q: contains '#'", ErrBadTarget, r.Target)
	}
	escaped := r.Path
	if escaped == "" || escaped[0] != '/' {
		// "OPTIONS *" and "CONNECT host:port" name no resource here
		// (docs/SPEC.md 9.2).
		return "", "", fmt.Errorf("%w %q: no absolute path", ErrBadTarget, r.Target)
	}
	// Match on a segment boundary of the raw path: "/application" and
	// "/app%2Fx" are not under "/app" (wsgiref IISCGIHandler; docs/SPEC.md
	// 9.2).
	if _, ok := CutMount(escaped, scriptName); !ok {
		return "", "", fmt.Errorf("%w: path %q, mount %q", ErrNotMounted, escaped, scriptName)
	}
	pathInfo, err = unescape(escaped[len(scriptName):])
	if err != nil {
		return "", "", fmt.Errorf("%w %q: %w", ErrBadTarget, escaped, err)
	}
	return script, pathInfo, nil
}

// CutMount reports whether the escaped path is at or below the mount prefix
// on a path-segment boundary, and returns the rest of the path: "/app"
// holds "/app" (rest "") and "/app/x" (rest "/x"), not "/application" nor
// "/app%2Fx". Every prefix is "" (the root, which holds every path) or
// starts with '/' and does not end with one. It is the one rule of mount
// matching, for the host's mount table, its Root and this package.
func CutMount(escapedPath, prefix string) (rest string, ok bool) {
	rest, ok = strings.CutPrefix(escapedPath, prefix)
	if !ok || rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}

// mountPrefix validates the raw mount prefix and returns it decoded.
func mountPrefix(scriptName string) (string, error) {
	if scriptName == "" {
		return "", nil
	}
	if scriptName[0] != '/' || scriptName[len(scriptName)-1] == '/' {
		return "", fmt.Errorf("environ: mount prefix %q must be \"\" or start with '/' and not end with '/'", scriptName)
	}
	decoded, err := unescape(scriptName)
	if err != nil {
		return "", fmt.Errorf("environ: mount prefix %q: %w", scriptName, err)
	}
	// "/a%2F" decodes to "/a/": SCRIPT_NAME must not end with '/'.
	if decoded[len(decoded)-1] == '/' {
		return "", fmt.Errorf("environ: mount prefix %q decodes to %q, which ends with '/'", scriptName, decoded)
	}
	return decoded, nil
}

// appendServer appends SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL,
// SERVER_SOFTWARE and GATEWAY_INTERFACE.
func appendServer(dst Vars, r *Request, gw *Gateway) Vars {
	name, port := gw.ServerName, gw.ServerPort
	if name == "" || port == "" {
		lname, lport := listenerHostPort(r.LocalAddr)
		if name == "" {
			name = lname
		}
		if port == "" {
			port = lport
		}
	}
	if name == "" {
		name = "localhost"
	}
	if port == "" {
		port = "80"
		if r.TLS {
			port = "443"
		}
	}
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	dst = append(dst,
		Var{"SERVER_NAME", name},
		Var{"SERVER_PORT", port},
		Var{"SERVER_PROTOCOL", proto},
	)
	if gw.ServerSoftware != "" {
		dst = append(dst, Var{"SERVER_SOFTWARE", gw.ServerSoftware})
	}
	return append(dst, Var{"GATEWAY_INTERFACE", gatewayInterface})
}

// appendRemote appends REMOTE_ADDR, REMOTE_PORT, HTTPS and lsgi.url_scheme.
func appendRemote(dst Vars, r *Request) Vars {
	// REMOTE_ADDR is the bare peer IP ("::1", not "[::1]"), RFC 3875 4.1.8.
	// A Unix socket peer ("@", or "") has no address, and port 0 (what
	// net/http/cgi makes of a missing REMOTE_PORT) is no port: both are
	// left out rather than faked.
	if host, rport, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if host != "" {
			dst = append(dst, Var{"REMOTE_ADDR", host})
		}
		if rport != "" && rport != "0" {
			dst = append(dst, Var{"REMOTE_PORT", rport})
		}
	} else if r.RemoteAddr != "" && r.RemoteAddr != "@" {
		dst = append(dst, Var{"REMOTE_ADDR", r.RemoteAddr})
	}
	if r.TLS {
		return append(dst, Var{"HTTPS", "on"}, Var{schemeKey, "https"})
	}
	return append(dst, Var{schemeKey, "http"})
}

// ServerNamePort returns SERVER_NAME and SERVER_PORT as [Build] derives
// them from a listener address ([Request.LocalAddr]): the host, bracketed
// if IPv6 (RFC 3875 4.1.14), and the port, or "" for each that is unknown.
// A transport that serves many requests on one connection can compute them
// once and pass them in a [Gateway].
func ServerNamePort(addr net.Addr) (name, port string) { return listenerHostPort(addr) }

// listenerHostPort is ServerNamePort. A TCP address costs one allocation
// for both strings.
func listenerHostPort(addr net.Addr) (host, port string) {
	switch a := addr.(type) {
	case nil:
		return "", ""
	case *net.TCPAddr:
		ap := a.AddrPort()
		ip := ap.Addr().Unmap()
		if !ip.IsValid() {
			return "", ""
		}
		var buf [64]byte
		b := appendHost(buf[:0], ip)
		n := len(b)
		b = strconv.AppendUint(b, uint64(ap.Port()), 10)
		s := string(b)
		return s[:n], s[n:]
	default:
		h, p, err := net.SplitHostPort(a.String())
		if err != nil {
			return "", ""
		}
		if ip, err := netip.ParseAddr(h); err == nil && ip.Is6() {
			h = "[" + h + "]"
		}
		return h, p
	}
}

func appendHost(b []byte, ip netip.Addr) []byte {
	if ip.Is6() {
		b = append(b, '[')
		b = ip.AppendTo(b)
		return append(b, ']')
	}
	return ip.AppendTo(b)
}
