// This file is the request cycle and its lower seam: a request described
// with no net/http type in, a response out through a small writer, for
// transports that are not net/http. ServeHTTP is the same cycle behind an
// http.Handler.

package host

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lsgi/lsgi/devmode"
	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/luabridge"
)

// Request is one request as a transport hands it to [Handler.ServeRequest].
// Nothing in it is a net/http type, so an HTTP engine of any kind can fill
// it from what it parsed without building an *http.Request.
type Request struct {
	// Request holds what the environ is built from: method, target, path,
	// protocol, Host, peer, TLS and the header fields (see
	// [environ.Request]).
	environ.Request

	// Body is the request body, ending exactly where the body ends (the
	// transport has undone any chunked framing); nil means none.
	Body io.Reader

	// ContentLength is the body's declared length: 0 for none, -1 when
	// unknown (chunked). A declared length above Config.MaxBodyBytes gets
	// 413 before any app runs.
	ContentLength int64

	// Gateway is what the front end knows that the request does not say
	// (server name and port, REMOTE_USER, run-once); nil means nothing.
	// The host fills in SERVER_SOFTWARE.
	Gateway *environ.Gateway
}

// ResponseWriter is the response side of one request as a transport gives
// it to [Handler.ServeRequest]: wsgiref's send_headers and _write. The host
// calls AddHeader for each field, then WriteHeader once, then Write for
// each piece of the body, all from the goroutine of ServeRequest. It has
// already applied the framing rules the server owns (no body for HEAD, 204
// and 304; a body cut at its declared Content-Length), so a transport sends
// what it is given.
type ResponseWriter interface {
	// AddHeader adds a response header field: a valid HTTP token as name
	// (in the case the app wrote it) and a value with no control
	// character but HTAB. Repeats are separate fields, in order.
	AddHeader(name, value string)

	// WriteHeader sends the status line and the fields added. reason is
	// the app's reason phrase, "" for the standard one; a transport that
	// cannot send its own phrase sends the standard one. A body of
	// unknown length (no Content-Length field) is framed by the
	// transport, chunked on HTTP/1.1.
	WriteHeader(status int, reason string) error

	// Write sends a piece of the body. With flush, the piece (and what
	// came before it) is on its way to the client when Write returns
	// (handed to a sender, for a [Coalescer] told to coalesce); without,
	// it may wait in a buffer until the next flush or the end of the
	// response. An empty chunk with flush sends what is buffered, headers
	// included. An error means the client is gone.
	Write(chunk string, flush bool) error
}

// Coalescer is a [ResponseWriter] that can send the body from a goroutine
// of its own while the app produces the next piece (PEP 3333: a server may
// "continue transmission while the application produces the next block").
// The host calls Coalesce before WriteHeader for a response that may be
// sent so: one with a body, whose app did not ask for exact chunks
// (docs/SPEC.md 7.4). Write with flush then returns once the piece is
// handed over rather than sent, and the pieces that pile up before the
// sender gets to them go out together; the transport sends everything
// before the response ends, and a Write after the client is gone returns
// the error. Without the call, flush means what [ResponseWriter] says.
type Coalescer interface {
	ResponseWriter
	Coalesce()
}

// ErrAborted is what [Handler.ServeRequest] returns when the response must
// not look complete: an app failed after its headers went out, the client
// left, or the request failed midway. A transport answers it by cutting the
// connection (net/http: panic(http.ErrAbortHandler)); where there is none
// to cut (CGI, in process), the response just ends early.
var ErrAborted = errors.New("host: response aborted")

// ServeRequest runs one request through the request cycle: it finds the
// mount, builds the environ, takes a Lua state from the app's pool, runs the
// app under the request's deadline and turns its failures into 500, 503,
// 504 or [ErrAborted], logging the request in the access log. ctx is the
// request's context: the transport cancels it when the client goes away.
//
// ServeRequest is the lower seam of the host, for transports that are not
// net/http (ServeHTTP is the same cycle behind an [http.Handler]). It is
// safe for concurrent use; r and w belong to the call.
//
// A transport that streams the request body from the connection lets the
// host bound its reads by implementing [ReadDeadliner] on w; one that
// reads the whole body first must bound that read itself. Either way it
// closes the connection rather than drain a body left unread, and after a
// request that declared both Content-Length and Transfer-Encoding
// (docs/SECURITY.md, "Slow and hostile clients").
func (h *Handler) ServeRequest(ctx context.Context, w ResponseWriter, r *Request) (err error) {
	start := time.Now()
	rd := h.armRead(w, start)
	x := exchangePool.Get().(*exchange)
	defer x.release()
	x.start = start
	x.resp.reset(w, r.Method == http.MethodHead)
	if h.access != nil || h.cfg.Metrics {
		defer h.account(x, r, start, &err)
	}
	err = h.serve(ctx, x, r)
	boundUnread(rd, r, &x.body)
	return err
}

// account records a request that ended in the app's counters and the
// access log.
func (h *Handler) account(x *exchange, r *Request, start time.Time, err *error) {
	took := time.Since(start)
	status := x.resp.loggedStatus()
	if s := x.stats; s != nil {
		s.done(status, *err != nil, took)
	} else if h.cfg.Metrics && x.unmatched {
		h.unmatched.Add(1)
	}
	if h.access != nil {
		h.access.log(x, r, status, start, took)
	}
}

// exchange is the host's scratch space for one request, pooled so that the
// cycle allocates little of its own.
type exchange struct {
	start    time.Time
	deadline requestDeadline // reused from request to request (deadline.go)
	resp     response
	vars     environ.Vars
	body     limitedBody
	req      luabridge.Request
	flight   flight // the memory fence's record of the request

	stats     *appStats // the app's counters, with Config.Metrics
	unmatched bool      // no mount took the request
}

var exchangePool = sync.Pool{New: func() any { return &exchange{vars: make(environ.Vars, 0, 32)} }}

func (x *exchange) release() {
	x.resp.reset(nil, false)
	clear(x.vars)
	x.vars = x.vars[:0]
	x.body = limitedBody{}
	x.req = luabridge.Request{}
	x.stats, x.unmatched = nil, false
	exchangePool.Put(x)
}

// serve is the request cycle.
func (h *Handler) serve(ctx context.Context, x *exchange, r *Request) error {
	resp := &x.resp
	rest, underRoot := environ.CutMount(r.Path, h.root)
	pl, prefix := (*plugin)(nil), ""
	if underRoot {
		pl, prefix = h.reg.lookup(rest)
	}
	if h.cfg.Dev && (pl == nil || underRoot && strings.HasPrefix(rest, devPrefix)) {
		return h.serveDev(ctx, x, r, rest, underRoot)
	}
	if pl == nil {
		x.unmatched = true
		resp.tag(newRequestID(), h.cfg.SendRequestID)
		resp.plain(http.StatusNotFound, "404 Not Found\n")
		return nil
	}
	if pl.stats != nil {
		x.stats = pl.stats
		pl.stats.inFlight.Add(1)
	}
	if h.cfg.MaxBodyBytes > 0 && r.ContentLength > h.cfg.MaxBodyBytes {
		resp.tag(newRequestID(), h.cfg.SendRequestID)
		resp.plain(http.StatusRequestEntityTooLarge, "413 Request Entity Too Large\n")
		return nil
	}
	gw := h.software
	if r.Gateway != nil {
		gw.ServerName, gw.ServerPort, gw.Vars, gw.RunOnce = r.Gateway.ServerName, r.Gateway.ServerPort, r.Gateway.Vars, r.Gateway.RunOnce
	}
	vars, err := environ.Build(x.vars[:0], &r.Request, h.root+prefix, &gw)
	if err == nil {
		vars, err = h.proxies.Apply(vars, r.RemoteAddr)
	}
	if err != nil {
		x.vars = vars[:0]
		resp.tag(newRequestID(), h.cfg.SendRequestID)
		h.log.Info("bad request", "path", r.Path, "err", err, "request_id", resp.id)
		resp.plain(http.StatusBadRequest, "400 Bad Request\n")
		return nil
	}
	resp.tag(h.requestID(vars, r.RemoteAddr), h.cfg.SendRequestID)
	vars = append(vars, environ.Var{Name: requestIDVar, Value: resp.id})
	x.vars = vars // kept whole for the access log; release empties it

	dl := &x.deadline
	dl.arm(ctx, x.start, h.cfg.Timeout, h.cfg.MaxStreamTime)
	defer dl.release()
	deadline, _ := dl.Deadline()
	var out luabridge.ResponseWriter = resp
	if h.cfg.Dev && isLoopback(vars) {
		if failure := pl.loadError(); failure != nil {
			h.devError(resp, vars, pl, failure)
			return nil
		}
		if accept, _ := vars.Get("HTTP_ACCEPT"); devmode.AsksForHTML(accept) {
			out = h.reloadInjector(resp, pl)
		}
	}
	v, st, err := h.acquire(dl, pl)
	if err != nil {
		return h.refuse(resp, pl, err)
	}
	x.req = luabridge.Request{Vars: vars, RunOnce: gw.RunOnce, ID: resp.id}
	if r.Body != nil {
		x.body = limitedBody{r: r.Body, limit: h.cfg.MaxBodyBytes}
		x.req.Body = &x.body
	}
	resp.begin(deadline, r.Body != nil)
	dl.resp, dl.readsBody = resp, r.Body != nil
	x.req.Stop = h.fence.enter(&x.flight, pl.name, dl)
	err = st.Serve(dl, &x.req, out)
	if h.fence.leave(&x.flight, st) {
		v.pool.Discard(st)
		return h.stoppedByFence(resp)
	}
	v.pool.Put(st)
	if inj, ok := out.(*reloadInjector); ok && err == nil {
		err = inj.finish()
	}
	return h.finish(resp, vars, pl, err)
}

// acquire lends a state of the plugin's current version. A version can be
// retired between reading it and asking its pool (a reload); then the new
// one is used.
func (h *Handler) acquire(ctx context.Context, pl *plugin) (*version, *luabridge.State, error) {
	for {
		v := pl.current.Load()
		if v.err != nil {
			return v, nil, errNotLoaded
		}
		st, err := v.pool.Get(ctx, h.cfg.QueueTimeout)
		if errors.Is(err, luabridge.ErrClosed) && pl.current.Load() != v {
			continue
		}
		return v, st, err
	}
}

// refuse answers a request that never reached the app.
func (h *Handler) refuse(resp *response, pl *plugin, err error) error {
	switch {
	case errors.Is(err, errNotLoaded), errors.Is(err, luabridge.ErrNotLoaded):
		resp.notLoaded(pl.name)
	case errors.Is(err, luabridge.ErrBusy):
		pl.stats.noteBusy()
		h.log.Warn("all Lua states busy", "app", pl.name, "waited", h.cfg.QueueTimeout, "request_id", resp.id)
		resp.plain(http.StatusServiceUnavailable, "503 Service Unavailable\n", "Retry-After", "1")
	case errors.Is(err, context.DeadlineExceeded):
		pl.stats.noteTimeout()
		resp.plain(http.StatusGatewayTimeout, "504 Gateway Timeout\n")
	case errors.Is(err, context.Canceled):
		// The client left while waiting.
		resp.aborted = true
		return ErrAborted
	default:
		h.log.Error("cannot run app", "app", pl.name, "err", err, "request_id", resp.id)
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
	}
	return nil
}

// finish turns the outcome of an app's run into what the client sees.
func (h *Handler) finish(resp *response, vars environ.Vars, pl *plugin, err error) error {
	if resp.dropped {
		h.log.Warn("the app produced a body for a response that cannot have one; it was dropped", "app", pl.name, "path", requestPath(vars), "status", resp.status, "request_id", resp.id)
	}
	if resp.cut {
		h.log.Warn("the app sent more than its Content-Length; the body was cut", "app", pl.name, "path", requestPath(vars), "content_length", resp.declared, "request_id", resp.id)
	}
	if err == nil {
		if resp.short() {
			h.log.Warn("the app sent less than its Content-Length; closing the connection", "app", pl.name, "path", requestPath(vars),
				"content_length", resp.declared, "sent", resp.written, "request_id", resp.id)
		}
		return nil
	}
	return h.fail(resp, vars, pl, err)
}

// fail answers a request whose app run ended in err. It is apart from
// finish so that the success path allocates nothing for error matching.
func (h *Handler) fail(resp *response, vars environ.Vars, pl *plugin, err error) error {
	var appErr *luabridge.AppError
	var clientErr *luabridge.ClientError
	switch {
	case errors.As(err, &clientErr):
		h.log.Debug("client went away", "app", pl.name, "path", requestPath(vars), "err", err, "request_id", resp.id)
		// Nothing useful can reach the client; make sure the transport
		// does not send an implicit empty 200 either.
		resp.aborted = resp.status == 0
		return ErrAborted
	case errors.As(err, &appErr):
		if appErr.Timeout {
			pl.stats.noteTimeout()
		} else {
			pl.stats.noteAppError()
		}
		method, _ := vars.Get("REQUEST_METHOD")
		h.log.Error("app error", "app", pl.name, "method", method, "path", requestPath(vars),
			"err", appErr.Err.Error(), devmode.TracebackKey, appErr.Traceback(), "headers_sent", resp.status != 0, "request_id", resp.id)
		switch {
		case resp.status != 0:
			// Part of the response is out: abort the connection so the
			// client sees a truncated body, never a complete-looking one.
			return ErrAborted
		case h.cfg.Dev && isLoopback(vars):
			h.devError(resp, vars, pl, appErr)
		case appErr.Timeout:
			resp.plain(http.StatusGatewayTimeout, "504 Gateway Timeout\n")
		default:
			resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
		}
	default:
		pl.stats.noteAppError()
		h.log.Error("request failed", "app", pl.name, "err", err, "request_id", resp.id)
		if resp.status != 0 {
			return ErrAborted
		}
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
	}
	return nil
}

// requestPath is the decoded request path, for logs.
func requestPath(vars environ.Vars) string {
	script, _ := vars.Get("SCRIPT_NAME")
	info, _ := vars.Get("PATH_INFO")
	return script + info
}

// limitedBody reads a request body up to Config.MaxBodyBytes (no limit when
// it is negative), past which a read fails with *http.MaxBytesError, the
// error the bridge raises in Lua as a body too large.
type limitedBody struct {
	r           io.Reader
	limit, read int64
	err         error
	eof         bool // the body was read to its end
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.limit < 0 {
		n, err := b.r.Read(p)
		b.eof = b.eof || err == io.EOF
		return n, err
	}
	if b.err != nil {
		return 0, b.err
	}
	if left := b.limit - b.read + 1; int64(len(p)) > left {
		p = p[:left] // one byte more than allowed tells a full body from a long one
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	b.eof = b.eof || err == io.EOF
	if b.read > b.limit {
		n -= int(b.read - b.limit)
		b.read = b.limit
		b.err = &http.MaxBytesError{Limit: b.limit}
		return n, b.err
	}
	return n, err
}
