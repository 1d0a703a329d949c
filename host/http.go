// This file is the net/http side of the host: ServeHTTP adapts an
// *http.Request and an http.ResponseWriter to the request cycle, for
// http.Server, net/http/cgi, net/http/fcgi and httptest alike.

package host

import (
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"sync"
	"time"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/internal/coalesce"
)

// ReasonSetter is an [http.ResponseWriter] that can send a reason phrase of
// the handler's choosing (a CGI response can; net/http's HTTP/1 writer
// always sends the standard one). ServeHTTP gives it the app's phrase just
// before WriteHeader.
type ReasonSetter interface {
	SetReason(reason string)
}

// ServeHTTP implements [http.Handler]: the request cycle of
// [Handler.ServeRequest] for every net/http front end. What a front end
// knows that the request does not say (a CGI host's SERVER_NAME, a FastCGI
// REMOTE_USER, run-once) comes from the [environ.Gateway] attached to r
// with [environ.WithGateway], as package transport attaches it.
//
// A response that must not look complete ([ErrAborted]) ends in
// panic(http.ErrAbortHandler), which http.Server answers by cutting the
// connection; in process, transport.Catch turns it back into ErrAborted.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := httpPool.Get().(*httpExchange)
	x.w = httpWriter{w: w, header: w.Header()}
	x.req = Request{Request: environ.RequestFromHTTP(r), ContentLength: r.ContentLength, Gateway: environ.GatewayOf(r)}
	if r.Body != nil && r.Body != http.NoBody {
		x.req.Body = r.Body
	}
	err := h.ServeRequest(r.Context(), &x.w, &x.req)
	if serr := x.w.endSending(); serr != nil && err == nil {
		err = ErrAborted // the client is gone: what was handed over did not reach it
	}
	x.w.disarm()
	*x = httpExchange{}
	httpPool.Put(x)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
}

// httpExchange is what ServeHTTP hands the request cycle, pooled.
type httpExchange struct {
	w   httpWriter
	req Request
}

var httpPool = sync.Pool{New: func() any { return new(httpExchange) }}

// httpWriter is an http.ResponseWriter as a [ResponseWriter].
type httpWriter struct {
	w      http.ResponseWriter
	header http.Header
	rc     *http.ResponseController // made on first use

	written  int64
	deadline time.Time // the request's, once the app runs
	armed    bool      // the write deadline is set

	coalesce  bool             // flushed pieces may go out from snd
	snd       *coalesce.Sender // sends the body once it streams, when coalescing
	unframed  bool             // no Content-Length: the first flush fixes chunked framing
	flushedAt bool             // something was flushed
}

// Coalesce implements [Coalescer].
func (a *httpWriter) Coalesce() { a.coalesce = true }

// maxCoalesced bounds the body bytes a sender keeps pending.
const maxCoalesced = 64 << 10

// endSending waits for the sender, if one runs, to send what it holds.
func (a *httpWriter) endSending() error {
	if a.snd == nil {
		return nil
	}
	err := a.snd.Close()
	a.snd = nil
	return err
}

// sendBatch writes and flushes one batch of the body, from the sender.
func (a *httpWriter) sendBatch(p []byte) error {
	n, err := a.w.Write(p)
	a.written += int64(n)
	if err != nil {
		return err
	}
	if err := a.controller().Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (a *httpWriter) AddHeader(name, value string) {
	key := textproto.CanonicalMIMEHeaderKey(name)
	a.header[key] = append(a.header[key], value)
}

func (a *httpWriter) WriteHeader(status int, reason string) error {
	_, hasLength := a.header["Content-Length"]
	a.unframed = !hasLength
	if _, ok := a.header["Content-Type"]; !ok {
		a.header["Content-Type"] = nil // send none rather than a sniffed one
	}
	if rs, ok := a.w.(ReasonSetter); ok {
		rs.SetReason(reason)
	}
	a.w.WriteHeader(status)
	return nil
}

func (a *httpWriter) Write(chunk string, flush bool) error {
	if a.unframed && !a.flushedAt && chunk != "" {
		// A body of unknown length is framed chunked, not given a
		// Content-Length net/http would compute at the end of a short
		// response (docs/SPEC.md 7.3): flush its first piece.
		flush = true
	}
	a.flushedAt = a.flushedAt || flush
	if a.snd != nil {
		return a.snd.Write(chunk, flush)
	}
	if flush && a.coalesce && chunk != "" && a.flushedAt && a.written > 0 {
		// Streaming: from the second flushed piece on, a sender writes
		// while the app goes on.
		a.armWrite()
		a.controller() // made here: the sender and lsgi.extend_deadline both use it
		a.snd = coalesce.Start(a.sendBatch, maxCoalesced)
		return a.snd.Write(chunk, true)
	}
	if chunk != "" {
		if a.written+int64(len(chunk)) > smallResponse {
			a.armWrite()
		}
		n, err := io.WriteString(a.w, chunk)
		a.written += int64(n)
		if err != nil {
			return err
		}
	}
	if !flush {
		return nil
	}
	a.armWrite()
	if err := a.controller().Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// smallResponse is how much net/http buffers before it writes to the
// connection (bufferBeforeChunkingSize): a response under it cannot block
// while the app runs.
const smallResponse = 2048

// armDeadline implements deadliner: a body is read under the request's
// deadline from now on (it was bounded since the request arrived: see
// [ReadDeadliner]), and writes once they can block. It is called again
// when the app moves its deadline (lsgi.extend_deadline).
func (a *httpWriter) armDeadline(deadline time.Time, readsBody bool) {
	a.deadline = deadline
	if readsBody {
		// A client that trickles its body must not pin a state forever.
		_ = a.SetReadDeadline(deadline)
	}
	if a.armed {
		_ = a.rc.SetWriteDeadline(deadline)
	}
}

// SetReadDeadline implements [ReadDeadliner] on the connection, where the
// front end has one (not on CGI or FastCGI, whose front server bounds its
// own reads).
func (a *httpWriter) SetReadDeadline(t time.Time) error {
	switch w := a.w.(type) {
	case ReadDeadliner:
		return w.SetReadDeadline(t) // net/http's own writer: no controller to allocate
	case interface{ Unwrap() http.ResponseWriter }:
		return a.controller().SetReadDeadline(t) // a middleware's writer around one
	}
	return http.ErrNotSupported

}

// armWrite bounds the writes of this request by its deadline, so that a
// client that stops reading cannot pin a Lua state. It is armed only once a
// write can reach the socket while the app runs: small responses go out
// after the state is back in its pool and need no deadline (nor its two
// system calls).
func (a *httpWriter) armWrite() {
	if a.armed || a.deadline.IsZero() {
		return
	}
	a.armed = true
	_ = a.controller().SetWriteDeadline(a.deadline)
}

// disarm lifts the write deadline, which would otherwise outlive the
// request on a kept-alive connection.
func (a *httpWriter) disarm() {
	if a.armed {
		_ = a.rc.SetWriteDeadline(time.Time{})
	}
}

func (a *httpWriter) controller() *http.ResponseController {
	if a.rc == nil {
		a.rc = http.NewResponseController(a.w)
	}
	return a.rc
}
