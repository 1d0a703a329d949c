// This file is the server side of the gateway: it turns an *http.Request into
// environ variables, after net/http/cgi's Handler.ServeHTTP and werkzeug's
// WSGIRequestHandler.make_environ.

package environ

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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

// Gateway describes the server side of a request: the facts that are not in
// *http.Request. The zero value is ready to use, and a nil *Gateway means
// the zero value.
type Gateway struct {
	// ServerSoftware is SERVER_SOFTWARE, for example "lsgi/0.1.0".
	// The variable is omitted when it is "".
	ServerSoftware string

	// ServerName is SERVER_NAME. When it is "", the host of the listener
	// address (http.LocalAddrContextKey) is used, with an IPv6 address in
	// brackets as RFC 3875 4.1.14 writes it, else "localhost".
	ServerName string

	// ServerPort is SERVER_PORT. When it is "", the port of the listener
	// address is used, else "443" for TLS and "80" otherwise.
	ServerPort string
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
// matched it against r.URL.EscapedPath(): "" for the root, otherwise "/name"
// without a trailing slash. gw may be nil.
//
// Build returns an error wrapping [ErrNotMounted] when scriptName is not ""
// and the escaped path neither equals scriptName nor starts with
// scriptName+"/" (so "/application" is not under "/app"), one wrapping
// [ErrBadTarget] when the request has no usable path, and a plain error when
// scriptName itself is malformed. On error dst is returned unchanged.
//
// Build reads only r's method, URL, RequestURI, Proto, Host, Header,
// TransferEncoding, RemoteAddr, TLS and the listener address in its context;
// it never reads the body. Header variables follow the other variables, in
// no particular order. Existing entries of dst are not looked at.
//
// Requests made in process (httptest.NewRequest, http.NewRequest) carry no
// Content-Length header, so they get no CONTENT_LENGTH unless one is set.
func Build(dst Vars, r *http.Request, scriptName string, gw *Gateway) (Vars, error) {
	if gw == nil {
		gw = &Gateway{}
	}
	scriptDecoded, err := mountPrefix(scriptName)
	if err != nil {
		return dst, err
	}
	escaped, err := requestPath(r)
	if err != nil {
		return dst, err
	}
	// Match on a segment boundary of the raw path: "/application" and
	// "/app%2Fx" are not under "/app" (wsgiref IISCGIHandler; rule E-05).
	if scriptName != "" && (!strings.HasPrefix(escaped, scriptName) ||
		len(escaped) > len(scriptName) && escaped[len(scriptName)] != '/') {
		return dst, fmt.Errorf("%w: path %q, mount %q", ErrNotMounted, escaped, scriptName)
	}
	pathInfo, err := Unescape(escaped[len(scriptName):])
	if err != nil {
		return dst, fmt.Errorf("%w %q: %w", ErrBadTarget, escaped, err)
	}

	start := len(dst)
	dst = slices.Grow(dst, fixedVars+len(r.Header))

	method := r.Method
	if method == "" {
		method = http.MethodGet // http.Request: "an empty string means GET"
	}
	dst = append(dst,
		Var{"REQUEST_METHOD", method},
		Var{"SCRIPT_NAME", scriptDecoded},
		Var{"PATH_INFO", pathInfo},
		Var{"QUERY_STRING", r.URL.RawQuery},
	)
	if r.RequestURI != "" {
		dst = append(dst, Var{"REQUEST_URI", r.RequestURI})
	}

	name, port := gw.ServerName, gw.ServerPort
	if name == "" || port == "" {
		lname, lport := listenerHostPort(r)
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
		if r.TLS != nil {
			port = "443"
		}
	}
	dst = append(dst,
		Var{"SERVER_NAME", name},
		Var{"SERVER_PORT", port},
		Var{"SERVER_PROTOCOL", protocol(r)},
	)
	if gw.ServerSoftware != "" {
		dst = append(dst, Var{"SERVER_SOFTWARE", gw.ServerSoftware})
	}
	dst = append(dst, Var{"GATEWAY_INTERFACE", gatewayInterface})

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

	if r.TLS != nil {
		dst = append(dst, Var{"HTTPS", "on"}, Var{schemeKey, "https"})
	} else {
		dst = append(dst, Var{schemeKey, "http"})
	}

	// Host is not in r.Header (net/http moves it to r.Host), and for an
	// absolute-form target r.Host is already the URI's authority (E-14).
	if r.Host != "" {
		dst = append(dst, Var{"HTTP_HOST", r.Host})
	}

	return appendHeaders(dst, start, r), nil
}

// mountPrefix validates the raw mount prefix and returns it decoded.
func mountPrefix(scriptName string) (string, error) {
	if scriptName == "" {
		return "", nil
	}
	if scriptName[0] != '/' || scriptName[len(scriptName)-1] == '/' {
		return "", fmt.Errorf("environ: mount prefix %q must be \"\" or start with '/' and not end with '/'", scriptName)
	}
	decoded, err := Unescape(scriptName)
	if err != nil {
		return "", fmt.Errorf("environ: mount prefix %q: %w", scriptName, err)
	}
	// "/a%2F" decodes to "/a/": SCRIPT_NAME must not end with '/'.
	if decoded[len(decoded)-1] == '/' {
		return "", fmt.Errorf("environ: mount prefix %q decodes to %q, which ends with '/'", scriptName, decoded)
	}
	return decoded, nil
}

// requestPath returns the escaped path of r, which always starts with '/'.
func requestPath(r *http.Request) (string, error) {
	if r.URL == nil {
		return "", fmt.Errorf("%w: no URL", ErrBadTarget)
	}
	// A request target has no fragment (RFC 9112 3.2), but net/http keeps a
	// '#' as part of the path or query. Reject it rather than pass a
	// fragment to the app (E-07) or route on a path the app does not see.
	if strings.IndexByte(r.RequestURI, '#') >= 0 {
		return "", fmt.Errorf("%w %q: contains '#'", ErrBadTarget, r.RequestURI)
	}
	if r.URL.Opaque != "" {
		return "", fmt.Errorf("%w: opaque URI %q", ErrBadTarget, r.URL.Opaque)
	}
	p := r.URL.EscapedPath()
	if p == "" && r.URL.Scheme != "" {
		// Absolute form with an empty path: "http://h" means "http://h/"
		// (RFC 9110 4.2.3).
		return "/", nil
	}
	if p == "" || p[0] != '/' {
		// "OPTIONS *" and "CONNECT host:port" name no resource here (H-05).
		return "", fmt.Errorf("%w %q: no absolute path", ErrBadTarget, r.RequestURI)
	}
	return p, nil
}

// protocol returns SERVER_PROTOCOL: r.Proto, or for a request built without
// one, the version from ProtoMajor and ProtoMinor (HTTP/1.1 when unset, as
// http.NewRequest does).
func protocol(r *http.Request) string {
	if r.Proto != "" {
		return r.Proto
	}
	switch {
	case r.ProtoMajor == 0 && r.ProtoMinor == 0, r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "HTTP/1.1"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "HTTP/1.0"
	case r.ProtoMajor == 2 && r.ProtoMinor == 0:
		return "HTTP/2.0"
	}
	return "HTTP/" + strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)
}

// listenerHostPort returns the host, bracketed if IPv6 (RFC 3875 4.1.14), and
// the port of the address the request was received on, or "" for each that
// is unknown. A TCP address costs one allocation for both strings.
func listenerHostPort(r *http.Request) (host, port string) {
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
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
	case net.Addr:
		h, p, err := net.SplitHostPort(a.String())
		if err != nil {
			return "", ""
		}
		if ip, err := netip.ParseAddr(h); err == nil && ip.Is6() {
			h = "[" + h + "]"
		}
		return h, p
	default:
		return "", ""
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
