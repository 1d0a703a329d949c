package fast

// This file writes responses: the status line, a Date, the app's fields
// and the body's framing, as net/http's chunkWriter decides them, into the
// connection's buffer.

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/httpsyntax"
	"github.com/lsgi/lsgi/internal/coalesce"
	"github.com/valyala/fasthttp"
)

// response is a connection's host.ResponseWriter for one request.
type response struct {
	c      *conn
	fields []field // added, not yet written

	http11   bool
	head     bool // HEAD: no body, no framing
	keep     bool // the connection may serve another request
	started  bool // the status line is written
	chunked  bool // the body is framed chunked
	declared int64
	written  int64
	start    int  // where this response begins in c.out
	flushed  bool // part of it reached the connection
	hasDate  bool
	length   bool // a Content-Length field was added
	bodyless bool // the status allows no body (204, 304)

	coalesce bool             // flushed pieces may go out from snd
	snd      *coalesce.Sender // sends the body once it streams, when coalescing
}

// Coalesce implements host.Coalescer.
func (r *response) Coalesce() { r.coalesce = true }

// sendBatch frames, writes and flushes one batch of the body, from the
// sender; nothing else touches the connection's buffer meanwhile.
func (r *response) sendBatch(p []byte) error {
	c := r.c
	if r.chunked {
		c.out = strconv.AppendUint(c.out, uint64(len(p)), 16)
		c.out = append(c.out, "\r\n"...)
		c.out = append(c.out, p...)
		c.out = append(c.out, "\r\n"...)
	} else {
		c.out = append(c.out, p...)
	}
	if !c.flush() {
		return c.writeErr
	}
	return nil
}

// endSending waits for the sender, if one runs, to send what it holds.
func (r *response) endSending() {
	if r.snd != nil {
		r.snd.Close()
		r.snd = nil
	}
}

type field struct{ name, value string }

func (r *response) reset(h *fasthttp.RequestHeader, head, keep bool) {
	clear(r.fields)
	*r = response{c: r.c, fields: r.fields[:0], http11: h.IsHTTP11(), head: head, keep: keep, declared: -1}
}

// AddHeader implements host.ResponseWriter.
func (r *response) AddHeader(name, value string) {
	switch {
	case len(name) == len("Content-Length") && strings.EqualFold(name, "Content-Length"):
		if n, err := httpsyntax.ParseContentLength(value); err == nil {
			r.length, r.declared = true, n
		}
	case len(name) == len("Date") && strings.EqualFold(name, "Date"):
		r.hasDate = true
	}
	r.fields = append(r.fields, field{name, value})
}

// WriteHeader implements host.ResponseWriter.
func (r *response) WriteHeader(status int, reason string) error {
	c := r.c
	c.body.drain()
	if c.body.err != nil {
		r.keep = false
	}
	if c.s.inShutdown.Load() {
		r.keep = false
	}
	r.started = true
	r.start = len(c.out)
	// What net/http's chunkWriter.writeHeader does with the framing.
	r.bodyless = status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	suppress := ""
	switch {
	case r.bodyless:
		suppress = "Content-Length" // and Content-Type for 304, below
	case r.head, r.length:
	case r.http11:
		r.chunked = true
	default:
		r.keep = false // HTTP/1.0: the end of the connection ends the body
	}
	out := appendStatusLine(c.out, r.http11, status, reason)
	if !r.hasDate {
		out = append(out, dateLine()...)
	}
	for _, f := range r.fields {
		if suppress != "" && (strings.EqualFold(f.name, suppress) ||
			status == http.StatusNotModified && strings.EqualFold(f.name, "Content-Type")) {
			continue
		}
		out = appendCanonical(out, f.name)
		out = append(out, ": "...)
		out = append(out, f.value...)
		out = append(out, "\r\n"...)
	}
	if r.chunked {
		out = append(out, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case !r.keep && r.http11:
		out = append(out, "Connection: close\r\n"...)
	case r.keep && !r.http11 && (r.head || r.length || r.bodyless):
		out = append(out, "Connection: keep-alive\r\n"...)
	case !r.http11:
		r.keep = false
	}
	c.out = append(out, "\r\n"...)
	clear(r.fields)
	r.fields = r.fields[:0]
	return nil
}

// Write implements host.ResponseWriter.
func (r *response) Write(chunk string, flush bool) error {
	c := r.c
	if r.snd != nil {
		r.written += int64(len(chunk))
		return r.snd.Write(chunk, flush)
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if flush && r.coalesce && r.flushed && chunk != "" {
		// Streaming: from the second flushed piece on, a sender writes
		// while the app goes on.
		r.written += int64(len(chunk))
		r.snd = coalesce.Start(r.sendBatch, maxPending)
		return r.snd.Write(chunk, true)
	}
	if chunk != "" {
		if r.chunked {
			c.out = strconv.AppendUint(c.out, uint64(len(chunk)), 16)
			c.out = append(c.out, "\r\n"...)
			c.out = append(c.out, chunk...)
			c.out = append(c.out, "\r\n"...)
		} else {
			c.out = append(c.out, chunk...)
		}
		r.written += int64(len(chunk))
	}
	if flush || len(c.out) >= maxPending {
		r.flushed = true
		if !c.flush() {
			return c.writeErr
		}
	}
	return nil
}

// SetReadDeadline bounds the reads of the request's body.
func (r *response) SetReadDeadline(t time.Time) error {
	r.c.body.deadline = true
	return r.c.nc.SetReadDeadline(t)
}

// finish completes the response after the handler returned err, and
// reports whether the connection may serve another request.
func (r *response) finish(err error) bool {
	c := r.c
	r.endSending()
	if err != nil {
		// Aborted: the client must not see a complete response. What
		// earlier pipelined responses left in the buffer still goes.
		if r.started && !r.flushed {
			c.out = c.out[:r.start]
		}
		return false
	}
	if !r.started {
		r.AddHeader("Content-Length", "0")
		r.WriteHeader(http.StatusOK, "")
	}
	if r.chunked {
		c.out = append(c.out, "0\r\n\r\n"...)
	}
	if r.length && !r.head && !r.bodyless && r.written < r.declared {
		return false // a short body: closing the connection shows it
	}
	return r.keep && c.writeErr == nil
}

// appendStatusLine appends "HTTP/1.1 200 OK\r\n", with the app's reason
// phrase when it gave one.
func appendStatusLine(b []byte, http11 bool, status int, reason string) []byte {
	if http11 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	if reason == "" {
		reason = http.StatusText(status)
	}
	b = append(b, reason...)
	return append(b, "\r\n"...)
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendCanonical appends a field name in net/http's canonical form
// (textproto.CanonicalMIMEHeaderKey): each word capitalised. The bridge
// has checked it is a token.
func appendCanonical(b []byte, name string) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case upper && 'a' <= ch && ch <= 'z':
			ch -= 'a' - 'A'
		case !upper && 'A' <= ch && ch <= 'Z':
			ch += 'a' - 'A'
		}
		b = append(b, ch)
		upper = ch == '-'
	}
	return b
}

// date is the Date field of the current second, made once a second.
type date struct {
	sec  int64
	line []byte
}

var currentDate atomic.Pointer[date]

func dateLine() []byte {
	now := time.Now()
	if d := currentDate.Load(); d != nil && d.sec == now.Unix() {
		return d.line
	}
	d := &date{sec: now.Unix()}
	d.line = append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
	d.line = append(d.line, "\r\n"...)
	currentDate.Store(d)
	return d.line
}
