// Package fast is an HTTP/1.1 engine for the lower seam of package host
// ([host.Handler.ServeRequest]): lsgi serve's engine with --engine fast.
// It reads requests with github.com/valyala/fasthttp's header parser and
// body reader and writes responses itself, so that no *http.Request, no
// http.Header and no map is made per request.
//
// # Why not fasthttp.Server
//
// fasthttp's server writes a response once its handler has returned, and
// streams a body of unknown length from another goroutine
// (SetBodyStreamWriter). An LSGI app runs inside the handler and may flush
// a chunk, then go on computing: the chunk must reach the client before the
// app is done. fasthttp's server also answers "Expect: 100-continue" and
// reads the first bytes of a body before the handler runs, where net/http
// (and LSGI, docs/SPEC.md 9.4) sends 100 Continue only when the app reads
// the body; it manages the Date header itself, where an app's own Date
// must be kept; and it cannot end a response early without ending the
// connection's loop. So the connection loop is this package's: it owns the
// socket, reads each request with fasthttp.RequestHeader, hands the body
// to the app through fasthttp's chunked and fixed-length readers when the
// app first reads it, and writes the status line, the app's fields and
// the body framing into its own buffer, flushed when the response is done,
// when the app flushes, or when the buffer fills.
//
// # What it does as net/http does
//
// Keep-alive (HTTP/1.1, and HTTP/1.0 with Connection: keep-alive);
// pipelining, with the responses of pipelined requests written together;
// 100 Continue sent on the app's first read of the body; a Date header
// unless the app sent one; chunked framing for a body of unknown length
// on HTTP/1.1 and a closed connection after it on HTTP/1.0; no body for
// HEAD, 204 and 304 (the host applies those rules); a body the app did not
// read drained (up to 256 KiB) or the connection closed; a request with
// both Content-Length and Transfer-Encoding answered and its connection
// closed (RFC 9112 section 6.1); 400 for a malformed request and 431 for
// headers over [Server.MaxHeaderBytes]; header, idle and write timeouts;
// graceful shutdown. Unlike net/http it sends the app's reason phrase.
//
// It does not speak TLS or HTTP/2: lsgi serve uses net/http for those.
package fast
