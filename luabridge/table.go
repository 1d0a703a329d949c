package luabridge

import (
	"maps"
	"reflect"
	"slices"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Building environ is the largest cost of a request in the bridge:
// gopher-lua's LTable keeps three structures per string key (a map from
// string to value, an insertion-ordered key list and a key-to-index map for
// next()), and filling 25 keys grows all three from empty. Every environ
// has nearly the same keys, so the bridge builds it by cloning a template
// table that already holds them (three bulk copies), then stores the
// request's values. That halves the cost of environ
// (BenchmarkEnvironTable).
//
// Cloning needs the unexported fields of LTable. tableLayout mirrors them;
// layoutMatches checks the mirror field by field against the gopher-lua
// version in go.mod, and if it ever differs the bridge falls back to plain
// CreateTable and RawSetString (TestFastTablesActive fails then, so an
// upgrade notices).

// tableLayout mirrors lua.LTable of gopher-lua v1.1.2.
type tableLayout struct {
	Metatable lua.LValue
	array     []lua.LValue
	dict      map[lua.LValue]lua.LValue
	strdict   map[string]lua.LValue
	keys      []lua.LValue
	k2i       map[lua.LValue]int
}

var fastTables = layoutMatches(reflect.TypeOf(lua.LTable{}), reflect.TypeOf(tableLayout{}))

func layoutMatches(real, mirror reflect.Type) bool {
	if real.Size() != mirror.Size() || real.NumField() != mirror.NumField() {
		return false
	}
	for i := 0; i < real.NumField(); i++ {
		r, m := real.Field(i), mirror.Field(i)
		if r.Name != m.Name || r.Type != m.Type || r.Offset != m.Offset {
			return false
		}
	}
	return true
}

func layoutOf(t *lua.LTable) *tableLayout { return (*tableLayout)(unsafe.Pointer(t)) }

// absent marks a template key that the request has not set (yet).
var absent = &lua.LUserData{}

// environKeys are the keys nearly every environ has. At most 28 of them,
// so that the string map fits 32 slots: a larger template would double
// every clone.
var environKeys = []string{
	"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_URI",
	"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "GATEWAY_INTERFACE",
	"REMOTE_ADDR", "REMOTE_PORT",
	"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE",
	"lsgi.url_scheme", "lsgi.version", "lsgi.input", "lsgi.errors",
	"lsgi.multithread", "lsgi.multiprocess", "lsgi.run_once", "lsgi.input_terminated",
	"lsgi.request_id",
}

// environTemplate holds environKeys, each set to absent. It is only ever
// read (concurrent map reads are safe) and never reaches Lua.
var environTemplate = func() *lua.LTable {
	t := &lua.LTable{Metatable: lua.LNil}
	for _, k := range environKeys {
		t.RawSetString(k, absent)
	}
	return t
}()

// tableBuilder fills one new environ table.
type tableBuilder struct {
	t       *lua.LTable
	strdict map[string]lua.LValue // t's string map when cloned from the template
}

func newEnvironBuilder(L *lua.LState, size int) tableBuilder {
	if !fastTables {
		return tableBuilder{t: L.CreateTable(0, size)}
	}
	src := layoutOf(environTemplate)
	t := &lua.LTable{Metatable: lua.LNil}
	dst := layoutOf(t)
	dst.strdict = maps.Clone(src.strdict)
	dst.keys = slices.Clone(src.keys)
	dst.k2i = maps.Clone(src.k2i)
	return tableBuilder{t: t, strdict: dst.strdict}
}

// set stores a string key. A key of the template needs one map store; any
// other goes through RawSetString.
func (b tableBuilder) set(key string, v lua.LValue) {
	if b.strdict != nil {
		if _, ok := b.strdict[key]; ok {
			b.strdict[key] = v
			return
		}
	}
	b.t.RawSetString(key, v)
}

// finish removes the template keys the request did not set, so that they
// read as nil and next() skips them, and returns the table.
func (b tableBuilder) finish() *lua.LTable {
	if b.strdict != nil {
		for _, k := range environKeys {
			if b.strdict[k] == absent {
				delete(b.strdict, k)
			}
		}
	}
	return b.t
}

// Many environ values repeat from request to request (the method, the
// protocol, the server's name and port, the client's address, common
// header values), and turning a Go string into a Lua value allocates. A
// state keeps the boxed values of such variables, up to a bound, so that a
// repeated value costs a map lookup instead. Variables whose values are
// mostly new each time (ports, paths, queries, cookies) are not kept: they
// would only fill the cache.
const (
	boxMaxLen     = 64
	boxMaxEntries = 256
)

var repeatingVars = map[string]bool{
	"REQUEST_METHOD": true, "SCRIPT_NAME": true, "SERVER_NAME": true, "SERVER_PORT": true,
	"SERVER_PROTOCOL": true, "SERVER_SOFTWARE": true, "GATEWAY_INTERFACE": true, "REMOTE_ADDR": true,
	"CONTENT_TYPE": true, "HTTPS": true, "lsgi.url_scheme": true,
	"HTTP_HOST": true, "HTTP_USER_AGENT": true, "HTTP_ACCEPT": true, "HTTP_ACCEPT_ENCODING": true,
	"HTTP_ACCEPT_LANGUAGE": true, "HTTP_CONNECTION": true, "HTTP_CACHE_CONTROL": true,
}

// envValue returns the Lua value of environ variable name.
func (s *State) envValue(name, v string) lua.LValue {
	if len(v) > boxMaxLen || !repeatingVars[name] {
		return lua.LString(v)
	}
	if lv, ok := s.boxed[v]; ok {
		return lv
	}
	lv := lua.LValue(lua.LString(v))
	if len(s.boxed) < boxMaxEntries {
		if s.boxed == nil {
			s.boxed = make(map[string]lua.LValue, boxMaxEntries)
		}
		s.boxed[v] = lv
	}
	return lv
}
