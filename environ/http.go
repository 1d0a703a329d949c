// This file adapts net/http's request to the Request that Build reads, and
// carries a Gateway on an *http.Request, as net/http/fcgi's ProcessEnv
// carries the FastCGI parameters.

package environ

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
)

// RequestFromHTTP describes r for [Build]. It reads r's method, URL,
// RequestURI, protocol, Host, Header, TransferEncoding, RemoteAddr, TLS and
// the listener address in its context, never the body, and keeps r.Header
// as the request's [Header] without copying it.
//
// The path comes from r.URL, not from RequestURI, so that a transport (or
// a middleware) that rewrites r.URL routes by what it wrote; REQUEST_URI
// stays as received. Requests made in process (httptest.NewRequest,
// http.NewRequest) carry no Content-Length header, so they get no
// CONTENT_LENGTH unless one is set.
func RequestFromHTTP(r *http.Request) Request {
	req := Request{
		Method:     r.Method,
		Target:     r.RequestURI,
		Proto:      protocol(r),
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		TLS:        r.TLS != nil,
		Chunked:    len(r.TransferEncoding) > 0,
		Header:     httpHeader(r.Header),
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		req.LocalAddr = a
	}
	if u := r.URL; u != nil && u.Opaque == "" {
		req.Path, req.Query = u.EscapedPath(), u.RawQuery
		if req.Path == "" && u.Scheme != "" {
			// Absolute form with an empty path: "http://h" means
			// "http://h/" (RFC 9110 4.2.3).
			req.Path = "/"
		}
	}
	return req
}

// httpHeader is an http.Header seen as a [Header].
type httpHeader http.Header

// VisitFields implements [Header]. The values of one name come together,
// in order; names come in map order.
func (h httpHeader) VisitFields(v FieldVisitor) {
	for name, vs := range h {
		for _, value := range vs {
			v.Field(name, value)
		}
	}
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

type gatewayKey struct{}

// WithGateway returns a shallow copy of r that carries gw: what a front end
// other than plain HTTP (CGI, FastCGI), or a middleware of an embedding
// program, knows about r. The host reads it with [GatewayOf].
func WithGateway(r *http.Request, gw *Gateway) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), gatewayKey{}, gw))
}

// GatewayOf returns the [Gateway] attached to r with [WithGateway], or nil.
func GatewayOf(r *http.Request) *Gateway {
	gw, _ := r.Context().Value(gatewayKey{}).(*Gateway)
	return gw
}

// WithVars returns a shallow copy of r whose Gateway has vars after its own:
// how a middleware of an embedding program adds environ entries (the
// authenticated user as REMOTE_USER, its own "myapp." extensions). The
// Gateway r carries, if any, is copied, not changed.
func WithVars(r *http.Request, vars ...Var) *http.Request {
	var gw Gateway
	if old := GatewayOf(r); old != nil {
		gw = *old
	}
	gw.Vars = append(slices.Clip(gw.Vars), vars...)
	return WithGateway(r, &gw)
}
