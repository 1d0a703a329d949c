package luabridge

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestCompileTrimsProtos(t *testing.T) {
	tests := []struct{ desc, src string }{
		{"one-line app", `return function(e, sr) sr("200 OK", {}) return {"hi"} end`},
		{"nested functions, locals and upvalues", `local n = 0
			local function count() n = n + 1 return n end
			return function(e, sr)
				local t = {}
				for i = 1, 3 do t[i] = function() return count() + i end end
				sr("200 OK", {}) return {tostring(t[1]())}
			end`},
		{"empty chunk", ``},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			proto, err := Compile("t.lua", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var check func(p *lua.FunctionProto, depth int)
			check = func(p *lua.FunctionProto, depth int) {
				for name, lc := range map[string][2]int{
					"Code":               {len(p.Code), cap(p.Code)},
					"DbgSourcePositions": {len(p.DbgSourcePositions), cap(p.DbgSourcePositions)},
					"Constants":          {len(p.Constants), cap(p.Constants)},
					"DbgLocals":          {len(p.DbgLocals), cap(p.DbgLocals)},
					"DbgCalls":           {len(p.DbgCalls), cap(p.DbgCalls)},
					"DbgUpvalues":        {len(p.DbgUpvalues), cap(p.DbgUpvalues)},
					"FunctionPrototypes": {len(p.FunctionPrototypes), cap(p.FunctionPrototypes)},
				} {
					if lc[0] != lc[1] {
						t.Errorf("function at depth %d: %s has length %d, capacity %d", depth, name, lc[0], lc[1])
					}
				}
				for _, child := range p.FunctionPrototypes {
					check(child, depth+1)
				}
			}
			check(proto, 0)
		})
	}
}

func TestTrimmedProtoRuns(t *testing.T) {
	rec := newRecorder()
	src := `local n = 0
		local function count() n = n + 1 return n end
		return function(e, sr)
			local t = {}
			for i = 1, 3 do t[i] = function() return count() * 10 + i end end
			sr("200 OK", {}) return {tostring(t[3]()), tostring(t[1]())}
		end`
	if err, _ := serveOnce(t, src, rec, ""); err != nil {
		t.Fatal(err)
	}
	if rec.body() != "1321" {
		t.Errorf("body = %q, want 1321", rec.body())
	}
}
