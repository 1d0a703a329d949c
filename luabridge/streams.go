package luabridge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// inputStream is lsgi.input: the request body with Lua io conventions.
// read(n) and readline() return nil at the end of the body; read() returns
// the rest, "" when nothing is left (docs/SPEC.md 9.4).
type inputStream struct {
	r     io.Reader     // the body, already limited to its length by the transport
	br    *bufio.Reader // made on the first readline, then used for every read
	ended bool          // the request is over: the stream is dead
	limit int64         // the string-bytes limit: no read returns more
}

// readChunk is the most read(n) allocates before the data is there: a
// large n costs memory only as the body actually arrives.
const readChunk = 64 << 10

var bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// reader returns the buffered reader, creating it on first use; plain reads
// of a body that never needs line splitting skip the buffer entirely.
func (in *inputStream) reader() io.Reader {
	if in.br != nil {
		return in.br
	}
	return in.r
}

func (in *inputStream) buffered() *bufio.Reader {
	if in.br == nil {
		in.br = bufioPool.Get().(*bufio.Reader)
		in.br.Reset(in.r)
	}
	return in.br
}

// end marks the stream dead and recycles its buffer.
func (in *inputStream) end() {
	in.ended = true
	if in.br != nil {
		in.br.Reset(nil)
		bufioPool.Put(in.br)
		in.br = nil
	}
	in.r = nil
}

const inputTypeName = "lsgi.input"

func newInputMeta(L *lua.LState) *lua.LTable {
	mt := L.NewTypeMetatable(inputTypeName)
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"read":      inputRead,
		"readline":  inputReadline,
		"readlines": inputReadlines,
		"lines":     inputLines,
		"close":     inputClose,
	})
	L.SetField(mt, "__index", methods)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(inputTypeName))
		return 1
	}))
	return mt
}

func checkInput(L *lua.LState) *inputStream {
	ud := L.CheckUserData(1)
	in, ok := ud.Value.(*inputStream)
	if !ok {
		L.ArgError(1, "lsgi.input expected (call it with a colon: input:read())")
	}
	if in.ended {
		L.RaiseError("lsgi.input: the request this stream belongs to has ended")
	}
	return in
}

// raiseRead turns a body read error into a Lua error: a body cut short must
// never look complete (docs/SPEC.md 9.4).
func raiseRead(L *lua.LState, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		L.RaiseError("lsgi.input: the request body is larger than the limit of %d bytes", tooBig.Limit)
	case errors.Is(err, io.ErrUnexpectedEOF):
		L.RaiseError("lsgi.input: the request body ended before its declared length (client disconnected?)")
	default:
		L.RaiseError("lsgi.input: read: %s", err.Error())
	}
}

func inputRead(L *lua.LState) int {
	in := checkInput(L)
	switch arg := L.Get(2).(type) {
	case *lua.LNilType:
		return readAll(L, in)
	case lua.LNumber:
		if arg < 0 || arg != arg {
			L.ArgError(2, "size must not be negative")
		}
		if arg < 1 {
			L.Push(lua.LString(""))
			return 1
		}
		return readN(L, in, float64(arg))
	case lua.LString:
		switch strings.TrimPrefix(string(arg), "*") {
		case "a":
			return readAll(L, in)
		case "l":
			return readLine(L, in, -1)
		}
	}
	L.ArgError(2, `expected a size, "*a", "*l" or nothing`)
	return 0
}

// readN reads up to n bytes, in pieces as they arrive, and pushes them, or
// nil at the end of the body. A read that would return more than the
// string-bytes limit raises.
func readN(L *lua.LState, in *inputStream, n float64) int {
	want := in.limit
	if n <= float64(in.limit) {
		want = int64(n)
	}
	r := in.reader()
	buf := make([]byte, 0, min(want, readChunk))
	for int64(len(buf)) < want {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(want-int64(len(buf)), int64(cap(buf)))))
		}
		m, err := r.Read(buf[len(buf):int(min(int64(cap(buf)), want))])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(buf) > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
				break // the next read reports the body cut short
			}
			raiseRead(L, err)
		}
	}
	if int64(len(buf)) == in.limit && n > float64(in.limit) {
		var one [1]byte
		if m, _ := io.ReadFull(r, one[:]); m > 0 {
			raiseLimit(L, "lsgi.input:read", "string-bytes", in.limit, "the data read")
		}
	}
	if len(buf) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(buf))
	return 1
}

func readAll(L *lua.LState, in *inputStream) int {
	data, err := io.ReadAll(io.LimitReader(in.reader(), in.limit+1))
	if err != nil {
		raiseRead(L, err)
	}
	if int64(len(data)) > in.limit {
		raiseLimit(L, "lsgi.input:read", "string-bytes", in.limit, "the rest of the body")
	}
	L.Push(lua.LString(data))
	return 1
}

// readLine reads up to and including "\n", at most limit bytes (limit < 0:
// no limit). It pushes nil at the end of the body.
func readLine(L *lua.LState, in *inputStream, limit int) int {
	br := in.buffered()
	var line []byte
	if limit < 0 {
		for {
			frag, err := br.ReadSlice('\n')
			line = append(line, frag...)
			if int64(len(line)) > in.limit {
				raiseLimit(L, "lsgi.input:readline", "string-bytes", in.limit, "the line")
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && err != io.EOF {
				raiseRead(L, err)
			}
			break
		}
	} else {
		for len(line) < limit {
			c, err := br.ReadByte()
			if err != nil {
				if err != io.EOF {
					raiseRead(L, err)
				}
				break
			}
			line = append(line, c)
			if c == '\n' {
				break
			}
		}
	}
	if len(line) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(line))
	return 1
}

func inputReadline(L *lua.LState) int {
	in := checkInput(L)
	limit := -1
	if L.Get(2) != lua.LNil {
		limit = L.CheckInt(2)
		if limit < 0 {
			limit = -1
		}
		if limit == 0 {
			L.Push(lua.LString(""))
			return 1
		}
	}
	return readLine(L, in, limit)
}

func inputReadlines(L *lua.LState) int {
	in := checkInput(L)
	out := L.NewTable()
	for i := 1; ; i++ {
		readLine(L, in, -1)
		v := L.Get(-1)
		L.Pop(1)
		if v == lua.LNil {
			break
		}
		out.RawSetInt(i, v)
	}
	L.Push(out)
	return 1
}

func inputLines(L *lua.LState) int {
	ud := L.CheckUserData(1)
	checkInput(L)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		in := ud.Value.(*inputStream)
		if in.ended {
			L.RaiseError("lsgi.input: the request this stream belongs to has ended")
		}
		return readLine(L, in, -1)
	}))
	return 1
}

// inputClose does nothing: the server owns the stream (PEP 3333: apps must
// not close it), and closing it must not break the connection.
func inputClose(L *lua.LState) int { return 0 }

// errorStream is lsgi.errors: text written to it goes to the host's log, one
// record per line, tagged with the app and the request.
type errorStream struct {
	logger *slog.Logger
	app    string
	method string
	uri    string
	id     string // the request's id, if it has one
	buf    []byte // a partial line waiting for its "\n"
	ended  bool
}

// maxErrorLine bounds a buffered partial line so an app writing without
// newlines cannot grow memory without limit.
const maxErrorLine = 16 << 10

func (e *errorStream) write(p string) {
	for p != "" {
		i := strings.IndexByte(p, '\n')
		if i < 0 {
			e.buf = append(e.buf, p...)
			if len(e.buf) >= maxErrorLine {
				e.flush()
			}
			return
		}
		e.buf = append(e.buf, p[:i]...)
		e.flush()
		p = p[i+1:]
	}
}

// flush logs the pending partial line, if any. slog's handlers quote
// control characters, so an app cannot forge log lines.
func (e *errorStream) flush() {
	if len(e.buf) == 0 {
		return
	}
	if e.id != "" {
		e.logger.Warn(string(e.buf), "app", e.app, "via", "lsgi.errors", "method", e.method, "uri", e.uri, "request_id", e.id)
	} else {
		e.logger.Warn(string(e.buf), "app", e.app, "via", "lsgi.errors", "method", e.method, "uri", e.uri)
	}
	e.buf = e.buf[:0]
}

const errorsTypeName = "lsgi.errors"

func newErrorsMeta(L *lua.LState) *lua.LTable {
	mt := L.NewTypeMetatable(errorsTypeName)
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"write":      errorsWrite,
		"writelines": errorsWritelines,
		"flush":      errorsFlush,
		"close":      func(L *lua.LState) int { return 0 },
	})
	L.SetField(mt, "__index", methods)
	return mt
}

func checkErrors(L *lua.LState) *errorStream {
	ud := L.CheckUserData(1)
	e, ok := ud.Value.(*errorStream)
	if !ok {
		L.ArgError(1, "lsgi.errors expected (call it with a colon: errors:write(s))")
	}
	return e
}

func errorsWrite(L *lua.LState) int {
	e := checkErrors(L)
	for i := 2; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			e.write(string(v))
		case lua.LNumber:
			e.write(v.String())
		default:
			L.ArgError(i, fmt.Sprintf("string expected, got %s", v.Type()))
		}
	}
	return 0
}

func errorsWritelines(L *lua.LState) int {
	e := checkErrors(L)
	t := L.CheckTable(2)
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == lua.LNil {
			break
		}
		s, ok := v.(lua.LString)
		if !ok {
			L.ArgError(2, fmt.Sprintf("lines[%d] is a %s, not a string", i, v.Type()))
		}
		e.write(string(s))
	}
	return 0
}

func errorsFlush(L *lua.LState) int {
	checkErrors(L).flush()
	return 0
}
