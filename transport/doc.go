// Package transport carries HTTP requests to a handler from the front ends
// LSGI runs behind: an HTTP server with finite timeouts ([NewHTTPServer]),
// a CGI program ([ServeCGI]) and a FastCGI responder ([ServeFastCGI]).
//
// Like net/http/cgi and net/http/fcgi, every transport serves any
// [http.Handler], so one http.ServeMux that mixes Go handlers and LSGI apps
// (a *host.Handler) goes out over any of them. What a front end knows that
// the request does not say (a CGI host's SERVER_NAME and SERVER_PORT, the
// REMOTE_USER a FastCGI front server passes, run-once) travels with the
// request as an [environ.Gateway], attached with [environ.WithGateway] and
// read by the host with [environ.GatewayOf].
//
// [Certificate] holds the TLS certificate of an HTTPS server, read again
// on demand (lsgi serve does on SIGHUP).
//
// [Catch] is the one place where an aborted response (a panic with
// http.ErrAbortHandler) is caught where no server cuts the connection: in
// CGI, FastCGI, lsgi call and package lsgitest.
//
// A transport that is not net/http (another HTTP engine) does not go
// through http.Handler at all: it calls [host.Handler.ServeRequest], the
// lower seam, with a request described by [host.Request] and a
// [host.ResponseWriter]; docs/ARCHITECTURE.md shows one.
package transport
