package lualib

// This file bounds the conversions of Lua data the toolkit makes
// (json.encode, json.decode, lsgi.template's data): a count of the values
// visited, which stops a table shared at every level from being walked an
// exponential number of times; a nesting depth; the text produced; and the
// request's deadline, looked at as the work goes on.

import (
	"fmt"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// contextCheckEvery is how many values a conversion visits between looks
// at the state's context.
const contextCheckEvery = 1 << 14

// budget counts one conversion's work against the limits.
type budget struct {
	L      *lua.LState
	limits luabridge.Limits
	nodes  int64
}

// visit counts one value at the given depth.
func (b *budget) visit(depth int) error {
	b.nodes++
	if b.nodes > b.limits.MaxDataNodes {
		return fmt.Errorf("%s", luabridge.LimitError("data-nodes", b.limits.MaxDataNodes,
			"the number of values visited (a table reached through several paths counts each time)"))
	}
	if int64(depth) > b.limits.MaxDataDepth {
		return fmt.Errorf("%s", luabridge.LimitError("data-depth", b.limits.MaxDataDepth, "the nesting depth"))
	}
	if b.nodes%contextCheckEvery == 0 {
		if ctx := b.L.Context(); ctx != nil && ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
	}
	return nil
}

// text checks the size of the text a conversion has produced so far.
func (b *budget) text(n int) error {
	if int64(n) > b.limits.MaxStringBytes {
		return fmt.Errorf("%s", luabridge.LimitError("string-bytes", b.limits.MaxStringBytes, "the text produced"))
	}
	return nil
}

// limitedBuffer collects text up to a limit; a write past it fails, so
// that html/template stops executing.
type limitedBuffer struct {
	buf   []byte
	limit int64
}

func (w *limitedBuffer) Write(p []byte) (int, error) {
	if int64(len(w.buf)+len(p)) > w.limit {
		return 0, fmt.Errorf("%s", luabridge.LimitError("string-bytes", w.limit, "the rendered text"))
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
