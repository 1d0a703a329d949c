package host

// This file bounds how long a client can hold a connection by not sending
// the body it declared, on every path of the request cycle: the read
// deadline is set as the request arrives, before the mount lookup, so that
// a 404, 400, 413, 500 or 503 is bounded as much as an app's response, and
// an unread body is then given a short time to arrive rather than drained
// for ever (net/http drains up to 256 KiB of it to keep the connection).

import "time"

// ReadDeadliner is a [ResponseWriter] whose transport reads the request
// body from the connection while the request is served (a streaming
// body, as net/http reads it), so that the host can bound those reads:
//
//  1. [Handler.ServeRequest] calls SetReadDeadline before anything else,
//     with a deadline UnreadBodyTimeout past the request's own
//     (Config.Timeout from its arrival), and again with the request's
//     deadline itself once the app that reads the body runs (the margin
//     lets the host answer a request that ran out of time with 504 before
//     a transport that watches its connection, as net/http does, takes
//     the failed read for a client gone);
//  2. once the response is done, if the body was not read to its end (the
//     host refused the request, or the app did not read it), it calls
//     SetReadDeadline again with a deadline [UnreadBodyTimeout] away.
//
// Past the deadline a read of the body must fail, the transport's own
// included (draining what is left of a body to reuse the connection), and
// the transport must then close the connection. ServeHTTP's writer is a
// ReadDeadliner through [http.ResponseController].
type ReadDeadliner interface {
	SetReadDeadline(t time.Time) error
}

// UnreadBodyTimeout is how long a body that the request cycle did not read
// may take to arrive once the response is done: a transport reads it to
// keep the connection, or closes the connection past it.
const UnreadBodyTimeout = time.Second

// armRead sets the request's read deadline, if the transport takes one.
func (h *Handler) armRead(w ResponseWriter, start time.Time) ReadDeadliner {
	rd, ok := w.(ReadDeadliner)
	if !ok {
		return nil
	}
	_ = rd.SetReadDeadline(start.Add(h.cfg.Timeout + UnreadBodyTimeout))
	return rd
}

// boundUnread gives a body that was not read to its end UnreadBodyTimeout
// to arrive.
func boundUnread(rd ReadDeadliner, r *Request, body *limitedBody) {
	if rd != nil && r.Body != nil && r.ContentLength != 0 && !body.eof {
		_ = rd.SetReadDeadline(time.Now().Add(UnreadBodyTimeout))
	}
}
