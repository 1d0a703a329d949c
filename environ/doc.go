// Package environ translates an HTTP request into the string variables of an
// LSGI environ.
//
// A transport describes the request as a [Request], with no type of any
// HTTP library in it (header fields are visited one by one, see [Header]),
// and the front end's own knowledge as a [Gateway]; [Build] makes the
// variables. [RequestFromHTTP] describes an *http.Request, and
// [WithGateway] attaches a Gateway to one, as net/http/fcgi attaches its
// parameters. [Proxies] applies what trusted proxies report.
//
// LSGI is PEP 3333 (WSGI 1.0.1) for Lua, with the "wsgi." prefix spelled
// "lsgi.". The CGI meta-variables follow RFC 3875 (CGI/1.1) as PEP 3333
// adapts them. This package produces only the string-valued part of the
// environ: the CGI variables and "lsgi.url_scheme". The other "lsgi." keys
// (version, input, errors, the booleans) are Lua values and belong to the
// Lua bridge.
//
// The package is pure translation: it does not read or change the process
// environment (wsgiref's CGIHandler empties os_environ for the same reason),
// keeps no state between calls, and [Build] is safe for concurrent use.
//
// # Variables
//
// [Build] emits, in this order:
//
//   - REQUEST_METHOD: the method exactly as received.
//   - SCRIPT_NAME and PATH_INFO: the mount prefix and the rest of the path,
//     both percent-decoded to bytes (%XX becomes one byte; no '+' handling,
//     no UTF-8 check, no removal of dot segments or doubled slashes). The
//     split is made on the raw path, on a segment boundary.
//   - QUERY_STRING: raw, always present, "" when there is none.
//   - REQUEST_URI: the request target exactly as received; the only variable
//     in which "%2F" survives.
//   - SERVER_NAME and SERVER_PORT: from the [Gateway], else the listener
//     address, never from the client's Host.
//   - SERVER_PROTOCOL: the protocol of the request ("HTTP/1.0", "HTTP/2.0").
//   - SERVER_SOFTWARE (when configured) and GATEWAY_INTERFACE="CGI/1.1".
//   - REMOTE_ADDR and REMOTE_PORT: the TCP peer, no brackets around IPv6.
//   - HTTPS="on" over TLS only, and lsgi.url_scheme ("http" or "https").
//   - HTTP_HOST: the effective authority ([Request.Host]).
//   - Then, in no particular order, CONTENT_TYPE, CONTENT_LENGTH and one
//     HTTP_<NAME> per other header field.
//
// A variable that does not apply is left out; it is never set to "".
//
// # Header rules
//
// Each rule and its reason:
//
//   - Content-Type and Content-Length appear only as CONTENT_TYPE and
//     CONTENT_LENGTH, never as HTTP_CONTENT_*: wsgiref's validate.py rejects
//     the prefixed forms.
//   - CONTENT_LENGTH is present iff the body is framed by Content-Length. It
//     is absent for chunked bodies and for requests without a body, because
//     a length of 0 or -1 cannot tell "none" from "unknown".
//   - A header whose name contains '_' is dropped, so that "X_Auth" cannot
//     pose as "X-Auth" (werkzeug; gunicorn header_map=drop). A name that
//     is not an RFC 9110 token, which only a request built in process can
//     have, is dropped too.
//   - "Proxy" is dropped: HTTP_PROXY would be read as a proxy setting by
//     HTTP clients inside the app (httpoxy; Go issue 16405).
//   - Transfer-Encoding is framing, which the server has already removed.
//   - Repeated fields are joined in order with ", ", Cookie with "; "
//     (RFC 3875 4.1.18; RFC 9113 8.2.3).
//   - Host comes from [Request.Host], because an absolute-form target
//     overrides the field (and net/http moves it out of r.Header).
//   - The [Gateway]'s variables come last.
//
// Build rejects a request target that yields no path for an app ("*", a
// CONNECT authority, an opaque URI) or that contains '#', which a request
// target cannot (RFC 9112 3.2), with [ErrBadTarget]; an absolute-form target
// with an empty path ("http://h") has the path "/".
//
// # Invariants
//
// For every request Build accepts (the tests hold each environ to these):
// SCRIPT_NAME is "" or starts with '/' and does not end with '/'; PATH_INFO
// is "" or starts with '/'; SCRIPT_NAME+PATH_INFO is the decoded request path, which is never
// empty, so PATH_INFO is "" only below a non-root mount ("/app" requested
// under the mount "/app"). Every name appears once.
package environ
