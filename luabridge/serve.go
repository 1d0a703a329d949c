package luabridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/lsgi/lsgi/environ"
	lua "github.com/yuin/gopher-lua"
)

// ResponseWriter is the response side of one request as the bridge sees it:
// wsgiref's send_headers and _write. The host adapts its transport to it.
type ResponseWriter interface {
	// AddHeader adds one header field to the response that Start sends,
	// the name as the app wrote it (a valid token, docs/SPEC.md 6). The
	// bridge adds the fields just before calling Start, Content-Length
	// among them when it knows the body's length.
	AddHeader(name, value string)

	// Start sends the status line and the fields added. contentLength is the
	// body's length when it is known (declared by the app, or computed for
	// a body given whole), -1 otherwise. Start reports whether the response
	// carries a body at all: false for HEAD, 204 and 304, and then the
	// bridge asks the app for no more chunks.
	Start(status int, reason string, contentLength int64) (bodyAllowed bool, err error)

	// Write sends one chunk. With flush it is on its way to the client
	// before Write returns; an empty chunk (from write("")) then flushes
	// the headers. Without flush the chunk may wait in a buffer: the
	// bridge asks for that only when the next chunk is already at hand,
	// so that no chunk ever waits for app code. Write returns
	// [ErrBodyComplete] when the body has reached its declared
	// Content-Length (any excess is cut), and another error when the
	// client is gone.
	Write(chunk string, flush bool) error
}

// ExactChunksWriter is a [ResponseWriter] that may send flushed chunks from
// a goroutine of its own, several together (docs/SPEC.md 7.4). The bridge
// calls ExactChunks before Start when the app set environ key
// "lsgi.exact_chunks" to true: then every flushed chunk must be on its way,
// on its own, when Write returns.
type ExactChunksWriter interface {
	ResponseWriter
	ExactChunks()
}

// exactChunksKey is the environ key by which an app asks for exact chunks.
const exactChunksKey = "lsgi.exact_chunks"

// ErrBodyComplete tells the bridge that the response reached its declared
// Content-Length: it stops iterating and closes the body.
var ErrBodyComplete = errors.New("luabridge: response body reached its Content-Length")

// Request is what the bridge needs to know about one request.
type Request struct {
	// Vars are the CGI and lsgi.* string variables of environ.
	Vars environ.Vars

	// Body is the request body, ending exactly where the body ends. Nil
	// means an empty body.
	Body io.Reader

	// RunOnce sets lsgi.run_once: true when the process serves one request
	// and exits (CGI).
	RunOnce bool

	// Stop, if set, also bounds result:close(), which otherwise runs under
	// a bound of its own once the request's context has ended (PEP 3333:
	// close is called whatever happened): when Stop ends, close() is
	// interrupted too. The host's memory fence stops requests this way.
	Stop context.Context

	// ID is the request's id (lsgi.request_id, which Vars also holds):
	// lsgi.errors lines carry it, and Go modules read it with [RequestID].
	ID string
}

// AppError reports a request the app failed: a Lua error, a broken
// contract (a bad result, a non-string chunk, data before start_response),
// or a timeout.
type AppError struct {
	App     string
	Err     error // a *LuaError for errors raised in Lua
	Timeout bool  // the request's deadline ran out
}

func (e *AppError) Error() string {
	return fmt.Sprintf("luabridge: app %s: %v", e.App, e.Err)
}

func (e *AppError) Unwrap() error { return e.Err }

// Traceback returns the Lua traceback of the error, if it has one.
func (e *AppError) Traceback() string {
	var lerr *LuaError
	if errors.As(e.Err, &lerr) {
		return lerr.Traceback
	}
	return ""
}

// ClientError reports a client that went away mid-response. It is not the
// app's fault and needs no error response.
type ClientError struct{ Err error }

func (e *ClientError) Error() string { return "luabridge: client gone: " + e.Err.Error() }
func (e *ClientError) Unwrap() error { return e.Err }

// closeTimeout bounds result:close(), which runs under a fresh context even
// when the request's own has ended.
const closeTimeout = 5 * time.Second

// exchange is the state of one request: wsgiref's BaseHandler for one run.
// A State keeps one and resets it for each request.
type exchange struct {
	s    *State
	w    ResponseWriter
	ctx  context.Context
	stop context.Context // Request.Stop, or nil
	log  *slog.Logger
	objs *requestObjects // the Lua values of this request

	called        bool // start_response was called (even if it raised)
	valid         bool // and its last call succeeded
	code          int  // validated status
	reason        string
	contentLength int64 // declared by the app, -1 when none
	hasType       bool  // the app sent Content-Type

	sent         bool // status and headers are out
	bodyAllowed  bool // the response may carry a body (not HEAD, 204, 304)
	bodyComplete bool // the declared Content-Length was reached
	usedWrite    bool // the app used write(): the length is never known
	clientErr    error
	done         bool // the request is over; start_response and write refuse

	// The iterators of the result, reused from request to request.
	calls   callIterator
	threads threadIterator
	arrays  arrayIterator
}

// requestObjects are the Lua values a request hands its app, allocated
// together. Each must be new for every request: an app may keep one past
// its request, and a kept start_response, write or lsgi.input must then
// refuse to act rather than reach a later request. start_response and
// write are the State's Go functions; their upvalue, this request's
// lsgi.input, tells a kept one from the current one.
type requestObjects struct {
	start, write lua.LFunction
	upvalue      lua.Upvalue
	upvalues     [1]*lua.Upvalue
	input        lua.LUserData // lsgi.input
	errors       lua.LUserData // lsgi.errors
	in           inputStream
	errs         errorStream
	version      lua.LTable // lsgi.version, {1, 0}
	versionItems [2]lua.LValue
	env          lua.LTable
}

// Serve runs one request through the app on this state. ctx bounds the
// whole request: when it ends, running Lua code is interrupted. gopher-lua
// looks at ctx.Done() before every instruction, so a context whose Done
// is a plain field read costs the least (the host's is).
//
// It returns nil when the response was complete, a *[ClientError] when the
// client went away, and an *[AppError] otherwise; the host turns those into
// a 500, a 504, or an aborted connection.
func (s *State) Serve(ctx context.Context, req *Request, w ResponseWriter) error {
	L := s.lstate
	o := new(requestObjects)
	x := &s.x
	*x = exchange{
		s:             s,
		w:             w,
		ctx:           ctx,
		stop:          req.Stop,
		log:           s.prog.opts.Logger,
		objs:          o,
		contentLength: -1,
	}
	o.in = inputStream{r: req.Body, limit: s.std.limits.MaxStringBytes}
	if req.Body == nil {
		o.in.r = http.NoBody
	}
	method, _ := req.Vars.Get("REQUEST_METHOD")
	uri, _ := req.Vars.Get("REQUEST_URI")
	o.errs = errorStream{logger: x.log, app: s.prog.name, method: method, uri: uri, id: req.ID}
	o.input = lua.LUserData{Value: &o.in, Env: L.Env, Metatable: s.inputMeta}
	o.errors = lua.LUserData{Value: &o.errs, Env: L.Env, Metatable: s.errorsMeta}
	o.upvalue.SetValue(&o.input)
	o.upvalues[0] = &o.upvalue
	o.start = lua.LFunction{IsG: true, Env: L.Env, GFunction: s.startG, Upvalues: o.upvalues[:]}
	o.write = lua.LFunction{IsG: true, Env: L.Env, GFunction: s.writeG, Upvalues: o.upvalues[:]}

	L.SetContext(ctx)
	s.requestID = req.ID
	err := x.run(x.environ(req))
	s.requestID = ""
	x.done = true
	o.in.end()
	o.errs.flush()
	s.std.flush()
	s.served++
	s.shape.settle(&o.env)
	L.RemoveContext()
	L.SetTop(0)
	x.w, x.objs = nil, nil
	return err
}

// current reports whether the Go function running now (start_response or
// write) belongs to the request being served.
func (x *exchange) current(L *lua.LState) bool {
	return !x.done && x.objs != nil && L.Get(lua.UpvalueIndex(1)) == lua.LValue(&x.objs.input)
}

// environ builds the request's environ table: a fresh plain table with no
// metatable, so nothing an app does to it survives the request.
func (x *exchange) environ(req *Request) *lua.LTable {
	L := x.s.lstate
	o := x.objs
	env := newEnvironBuilder(L, &x.s.shape, &o.env, len(req.Vars)+8)
	for _, v := range req.Vars {
		env.setString(x.s, v.Name, v.Value)
	}
	env.setListed("lsgi.version", newArray(L, &o.version, o.versionItems[:0], lua.LNumber(1), lua.LNumber(0)))
	env.setListed("lsgi.input", &o.input)
	env.setListed("lsgi.errors", &o.errors)
	env.setListed("lsgi.multithread", lua.LFalse)
	env.setListed("lsgi.multiprocess", lua.LTrue)
	env.setListed("lsgi.run_once", lua.LBool(req.RunOnce))
	env.setListed("lsgi.input_terminated", lua.LTrue)
	return env.finish()
}

// run calls the app, drains its result and closes it.
func (x *exchange) run(env *lua.LTable) error {
	L := x.s.lstate
	L.Push(x.s.app)
	L.Push(env)
	L.Push(&x.objs.start)
	if err := L.PCall(2, 1, nil); err != nil {
		return x.fail(err)
	}
	result := L.Get(-1)
	L.Pop(1)
	defer x.closeResult(result)

	it, err := x.iterate(result)
	if err != nil {
		return x.fail(err)
	}
	for n := 1; !x.bodyComplete; n++ {
		chunk, more, err := it.next()
		if err != nil {
			return x.fail(err)
		}
		if !more {
			break
		}
		str, ok := chunk.(lua.LString)
		if !ok {
			return x.fail(fmt.Errorf("the result's chunk %d is %s, not a string (use tostring)", n, describe(chunk)))
		}
		if len(str) == 0 {
			continue // empty chunks send nothing, not even the headers
		}
		if !x.sent {
			if err := x.commit(it.knownLength(len(str))); err != nil {
				return x.fail(err)
			}
		}
		if !x.bodyAllowed {
			break // HEAD, 204, 304: the headers were all there was to send
		}
		if err := x.w.Write(string(str), !it.immediate()); err != nil {
			if errors.Is(err, ErrBodyComplete) {
				break
			}
			x.clientErr = err
			return &ClientError{Err: err}
		}
	}
	if !x.sent {
		known := int64(0)
		if x.usedWrite {
			known = -1
		}
		if err := x.commit(known); err != nil {
			return x.fail(err)
		}
	}
	return nil
}

// commit sends the stored status and headers. known is the body's length
// when the bridge knows the whole body, -1 otherwise; an app-declared
// Content-Length takes precedence.
func (x *exchange) commit(known int64) error {
	if !x.called {
		return errors.New("the app produced a response without calling start_response")
	}
	if !x.valid {
		return errors.New("the app produced a response after a failed start_response call")
	}
	for _, f := range x.s.headers {
		x.w.AddHeader(f.name, f.value)
	}
	length := x.contentLength
	if length < 0 && known >= 0 {
		length = known
		x.w.AddHeader("Content-Length", x.s.lengthText(known))
	}
	x.sent = true
	if ew, ok := x.w.(ExactChunksWriter); ok && x.objs.env.RawGetString(exactChunksKey) == lua.LTrue {
		ew.ExactChunks()
	}
	allowed, err := x.w.Start(x.code, x.reason, length)
	if err != nil {
		x.clientErr = err
		return &ClientError{Err: err}
	}
	x.bodyAllowed = allowed
	return nil
}

// startResponse is start_response(status, headers [, exc_info]).
func (x *exchange) startResponse(L *lua.LState) int {
	if !x.current(L) {
		L.RaiseError("start_response: called after its request ended")
	}
	excInfo := L.Get(3)
	if lua.LVAsBool(excInfo) {
		if x.sent {
			// Too late to change the response: re-raise the app's own
			// error so it aborts the response (PEP 3333).
			L.Error(excInfo, 0)
		}
	} else if x.called {
		L.RaiseError("start_response: called a second time without exc_info")
	}
	// Record the call before validating it: a second call without
	// exc_info is an error even when the first one raised.
	x.called = true
	x.valid = false
	code, reason, err := parseStatus(L.Get(1))
	if err != nil {
		L.RaiseError("start_response: %s", err.Error())
	}
	headers, cl, hasType, err := parseHeaders(x.s.headers[:0], L.Get(2), x.s.headerNames)
	x.s.headers = headers
	if err != nil {
		L.RaiseError("start_response: %s", err.Error())
	}
	x.code, x.reason, x.contentLength, x.hasType = code, reason, cl, hasType
	x.valid = true
	L.Push(&x.objs.write)
	return 1
}

// write is the imperative output path returned by start_response. Its
// first call sends the headers, even write("").
func (x *exchange) write(L *lua.LState) int {
	if !x.current(L) {
		L.RaiseError("write: called after its request ended")
	}
	data, ok := L.Get(1).(lua.LString)
	if !ok {
		L.ArgError(1, "string expected, got "+L.Get(1).Type().String())
	}
	if !x.called || !x.valid {
		L.RaiseError("write: called before a successful start_response")
	}
	x.usedWrite = true
	if !x.sent {
		if err := x.commit(-1); err != nil {
			L.RaiseError("write: %s", err.Error())
		}
	}
	if !x.bodyAllowed || x.bodyComplete {
		return 0
	}
	if err := x.w.Write(string(data), true); err != nil {
		if errors.Is(err, ErrBodyComplete) {
			x.bodyComplete = true
			return 0
		}
		x.clientErr = err
		L.RaiseError("write: the client is gone")
	}
	return 0
}

// fail classifies an error that ended the request.
func (x *exchange) fail(err error) error {
	if cerr := x.ctx.Err(); cerr != nil {
		// The interrupted call may have left the Lua stack inconsistent.
		x.s.broken = true
		if errors.Is(cerr, context.Canceled) {
			return &ClientError{Err: cerr}
		}
		return &AppError{App: x.s.prog.name, Err: fmt.Errorf("the request ran past its deadline: %w", cerr), Timeout: true}
	}
	if x.clientErr != nil {
		return &ClientError{Err: x.clientErr}
	}
	return &AppError{App: x.s.prog.name, Err: luaError(err, x.ctx)}
}

// closeResult calls result:close() if the result has one, exactly once,
// under a fresh bounded context: the request's own may have ended, and
// gopher-lua runs nothing under a cancelled context.
func (x *exchange) closeResult(result lua.LValue) {
	L := x.s.lstate
	switch v := result.(type) {
	case *lua.LTable:
		// Fast path: a plain array of chunks has no close.
		if v.Metatable == lua.LNil && v.RawGetString("close") == lua.LNil {
			return
		}
	case *lua.LUserData:
	default:
		return // functions and coroutines carry no close
	}
	parent := context.Background()
	if x.stop != nil {
		parent = x.stop
	}
	ctx, cancel := context.WithTimeout(parent, closeTimeout)
	defer cancel()
	L.SetContext(ctx)
	defer L.SetContext(x.ctx)
	L.SetTop(0)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		closeFn := L.GetField(result, "close")
		if closeFn == lua.LNil {
			return 0
		}
		L.Push(closeFn)
		L.Push(result)
		L.Call(1, 0)
		return 0
	}))
	if err := L.PCall(0, 0, nil); err != nil {
		if ctx.Err() != nil {
			x.s.broken = true
		}
		lerr := luaError(err, ctx)
		x.log.Error("result:close() failed", "app", x.s.prog.name, "err", lerr, "traceback", tracebackOf(lerr))
	}
}

func tracebackOf(err error) string {
	var lerr *LuaError
	if errors.As(err, &lerr) {
		return lerr.Traceback
	}
	return ""
}
