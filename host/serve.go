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
	"sync"
	"time"

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
func (h *Handler) ServeRequest(ctx context.Context, w ResponseWriter, r *Request) error {
	x := exchangePool.Get().(*exchange)
	defer x.release()
	x.start = time.Now()
	x.resp.reset(w, r.Method == http.MethodHead)
	if h.access != nil {
		defer h.access.log(r, &x.resp, x.start)
	}
	return h.serve(ctx, x, r)
}

// exchange is the host's scratch space for one request, pooled so that the
// cycle allocates little of its own.
type exchange struct {
	start time.Time
	resp  response
	vars  environ.Vars
	body  limitedBody
	req   luabridge.Request
}

var exchangePool = sync.Pool{New: func() any { return &exchange{vars: make(environ.Vars, 0, 32)} }}

func (x *exchange) release() {
	x.resp.reset(nil, false)
	clear(x.vars)
	x.vars = x.vars[:0]
	x.body = limitedBody{}
	x.req = luabridge.Request{}
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
	if pl == nil {
		resp.plain(http.StatusNotFound, "404 Not Found\n")
		return nil
	}
	if h.cfg.MaxBodyBytes > 0 && r.ContentLength > h.cfg.MaxBodyBytes {
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
	x.vars = vars[:0]
	if err != nil {
		h.log.Info("bad request", "path", r.Path, "err", err)
		resp.plain(http.StatusBadRequest, "400 Bad Request\n")
		return nil
	}

	deadline := x.start.Add(h.cfg.Timeout)
	if h.cfg.Dev {
		if failure := pl.loadError(); failure != nil {
			h.devErrorPage(resp, r, pl, failure)
			return nil
		}
	}
	v, st, err := h.acquire(ctx, pl, deadline)
	if err != nil {
		return h.refuse(resp, pl, err)
	}
	x.req = luabridge.Request{Vars: vars, RunOnce: gw.RunOnce, Deadline: deadline}
	if r.Body != nil {
		x.body = limitedBody{r: r.Body, limit: h.cfg.MaxBodyBytes}
		x.req.Body = &x.body
	}
	resp.begin(deadline, r.Body != nil)
	err = st.Serve(ctx, &x.req, resp)
	v.pool.Put(st)
	return h.finish(resp, vars, pl, err)
}

// acquire lends a state of the plugin's current version. A version can be
// retired between reading it and asking its pool (a reload); then the new
// one is used.
//
// The wait for a state (Config.QueueTimeout) and the opening of a new one
// (luabridge.InitTimeout) have bounds of their own; only when the request's
// deadline may come first do they run under a context that carries it, so
// that the common case makes no timer.
func (h *Handler) acquire(ctx context.Context, pl *plugin, deadline time.Time) (*version, *luabridge.State, error) {
	if h.cfg.Timeout < h.cfg.QueueTimeout || h.cfg.Timeout < luabridge.InitTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
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
	case errors.Is(err, errNotLoaded):
		resp.notLoaded(pl.name)
	case errors.Is(err, luabridge.ErrBusy):
		h.log.Warn("all Lua states busy", "app", pl.name, "waited", h.cfg.QueueTimeout)
		resp.plain(http.StatusServiceUnavailable, "503 Service Unavailable\n", "Retry-After", "1")
	case errors.Is(err, context.DeadlineExceeded):
		resp.plain(http.StatusGatewayTimeout, "504 Gateway Timeout\n")
	case errors.Is(err, context.Canceled):
		// The client left while waiting.
		resp.aborted = true
		return ErrAborted
	default:
		h.log.Error("cannot run app", "app", pl.name, "err", err)
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
	}
	return nil
}

// finish turns the outcome of an app's run into what the client sees.
func (h *Handler) finish(resp *response, vars environ.Vars, pl *plugin, err error) error {
	if resp.dropped {
		h.log.Warn("the app produced a body for a response that cannot have one; it was dropped", "app", pl.name, "path", requestPath(vars), "status", resp.status)
	}
	if resp.cut {
		h.log.Warn("the app sent more than its Content-Length; the body was cut", "app", pl.name, "path", requestPath(vars), "content_length", resp.declared)
	}
	if err == nil {
		if resp.short() {
			h.log.Warn("the app sent less than its Content-Length; closing the connection", "app", pl.name, "path", requestPath(vars),
				"content_length", resp.declared, "sent", resp.written)
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
		h.log.Debug("client went away", "app", pl.name, "path", requestPath(vars), "err", err)
		// Nothing useful can reach the client; make sure the transport
		// does not send an implicit empty 200 either.
		resp.aborted = resp.status == 0
		return ErrAborted
	case errors.As(err, &appErr):
		method, _ := vars.Get("REQUEST_METHOD")
		h.log.Error("app error", "app", pl.name, "method", method, "path", requestPath(vars),
			"err", appErr.Err.Error(), "traceback", appErr.Traceback(), "headers_sent", resp.status != 0)
		switch {
		case resp.status != 0:
			// Part of the response is out: abort the connection so the
			// client sees a truncated body, never a complete-looking one.
			return ErrAborted
		case appErr.Timeout:
			resp.plain(http.StatusGatewayTimeout, "504 Gateway Timeout\n")
		default:
			resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
		}
	default:
		h.log.Error("request failed", "app", pl.name, "err", err)
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
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.limit < 0 {
		return b.r.Read(p)
	}
	if b.err != nil {
		return 0, b.err
	}
	if left := b.limit - b.read + 1; int64(len(p)) > left {
		p = p[:left] // one byte more than allowed tells a full body from a long one
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		n -= int(b.read - b.limit)
		b.read = b.limit
		b.err = &http.MaxBytesError{Limit: b.limit}
		return n, b.err
	}
	return n, err
}
