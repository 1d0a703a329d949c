package luabridge

import (
	"reflect"
	"slices"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Building environ is the largest cost of a request in the bridge:
// gopher-lua's LTable keeps three structures per string key (a map from
// string to value, an insertion-ordered key list and a key-to-index map for
// next()), and filling 25 keys grows all three from empty. Every environ
// has nearly the same keys, so the bridge builds it as follows:
//
//   - the map of values is made with room for the request's variables, so
//     that storing them does not grow it;
//   - the key list and the key-to-index map depend only on which keys a
//     table has, not on their values, so the environ tables of one State
//     share them (an environShape) instead of building them. gopher-lua
//     appends to the key list (a clipped slice, so an append copies it) and
//     to the key-to-index map when a key is added; when a request added
//     keys, the State adopts the table's list, so that the next environ
//     already lists them, up to maxShapeKeys. next() skips listed keys
//     whose value is nil, so a table may list keys it does not have.
//
// A table kept past its request and given a new key during a later one
// adds that key to the shared map; a later environ that sets the same key
// then does not list it, and pairs() misses it there (it reads as usual).
// That is the one trace sharing leaves, and it needs an app that keeps its
// environ across requests and adds the same key to two of them.
//
// Sharing needs the unexported fields of LTable. tableLayout mirrors them;
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

// environKeys are the keys nearly every environ has, in the order a new
// State lists them.
var environKeys = []string{
	"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_URI",
	"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "GATEWAY_INTERFACE",
	"REMOTE_ADDR", "REMOTE_PORT",
	"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE",
	"lsgi.url_scheme", "lsgi.version", "lsgi.input", "lsgi.errors",
	"lsgi.multithread", "lsgi.multiprocess", "lsgi.run_once", "lsgi.input_terminated",
	"lsgi.request_id",
}

// maxShapeKeys bounds the keys an environShape lists: past it, a State goes
// back to environKeys, so that an app adding new keys at every request
// cannot grow it without end.
const maxShapeKeys = 64

// environShape is what a State's environ tables share: the key list and
// the key-to-index map, and the string keys of the list.
type environShape struct {
	keys  []lua.LValue       // clipped, so that an append copies
	k2i   map[lua.LValue]int // shared; gopher-lua adds the keys a table gains
	names map[string]*envKey // the string keys of keys
}

// envKey is what a State knows of one key its environ tables list: the
// value it had in the last request, boxed, since most values repeat from
// one request to the next (a method, a Host, a path).
type envKey struct {
	last      string
	lastValue lua.LValue // nil until a value was stored
}

// reset makes the shape list environKeys.
func (sh *environShape) reset() {
	sh.keys = make([]lua.LValue, len(environKeys))
	sh.k2i = make(map[lua.LValue]int, len(environKeys))
	sh.names = make(map[string]*envKey, len(environKeys))
	for i, k := range environKeys {
		sh.keys[i] = lua.LString(k)
		sh.k2i[sh.keys[i]] = i
		sh.names[k] = new(envKey)
	}
}

// tableBuilder fills one new environ table.
type tableBuilder struct {
	t       *lua.LTable
	strdict map[string]lua.LValue // t's map of values, when t shares a shape
	names   map[string]*envKey    // the keys t lists already
}

// newEnvironBuilder fills t, a zero table, as an environ of size keys,
// sharing sh.
func newEnvironBuilder(L *lua.LState, sh *environShape, t *lua.LTable, size int) tableBuilder {
	if !fastTables {
		return tableBuilder{t: L.CreateTable(0, size)}
	}
	if sh.k2i == nil {
		sh.reset()
	}
	t.Metatable = lua.LNil
	dst := layoutOf(t)
	dst.strdict = make(map[string]lua.LValue, size)
	dst.keys = sh.keys
	dst.k2i = sh.k2i
	return tableBuilder{t: t, strdict: dst.strdict, names: sh.names}
}

// set stores a string key: a key the table lists already needs one map
// store; any other goes through RawSetString, which lists it.
func (b tableBuilder) set(key string, v lua.LValue) {
	if b.names[key] != nil {
		b.strdict[key] = v
		return
	}
	b.t.RawSetString(key, v)
}

// setString stores the variable key with the string value v, boxed as
// little as it can be: the value the key had last, or one s keeps.
func (b tableBuilder) setString(s *State, key, v string) {
	if k := b.names[key]; k != nil {
		if k.lastValue == nil || k.last != v {
			k.last, k.lastValue = v, s.envValue(key, v)
		}
		b.strdict[key] = k.lastValue
		return
	}
	b.t.RawSetString(key, s.envValue(key, v))
}

// setListed stores a key of environKeys, which every shape lists.
func (b tableBuilder) setListed(key string, v lua.LValue) {
	if b.strdict != nil {
		b.strdict[key] = v
		return
	}
	b.t.RawSetString(key, v)
}

// finish returns the table.
func (b tableBuilder) finish() *lua.LTable { return b.t }

// settle adopts the keys a request's environ t gained, once the request is
// over, so that the next environ lists them already; or, when the shared
// map no longer matches t's key list (a table of an earlier request gained
// keys) or lists too many, goes back to environKeys.
func (sh *environShape) settle(t *lua.LTable) {
	if !fastTables || sh.k2i == nil || len(sh.k2i) == len(sh.keys) {
		return // no table gained a key
	}
	keys := layoutOf(t).keys
	if len(keys) != len(sh.k2i) || len(keys) > maxShapeKeys {
		sh.reset()
		return
	}
	for i := len(sh.keys); i < len(keys); i++ {
		if j, ok := sh.k2i[keys[i]]; !ok || j != i {
			sh.reset()
			return
		}
	}
	for _, k := range keys[len(sh.keys):] {
		if s, ok := k.(lua.LString); ok {
			sh.names[string(s)] = new(envKey)
		}
	}
	sh.keys = slices.Clip(keys)
}

// newArray fills t, a zero table, with the array items, using items (of
// enough capacity) as its storage, so that a small array allocates nothing
// of its own.
func newArray(L *lua.LState, t *lua.LTable, items []lua.LValue, values ...lua.LValue) *lua.LTable {
	if !fastTables {
		t = L.CreateTable(len(values), 0)
		for i, v := range values {
			t.RawSetInt(i+1, v)
		}
		return t
	}
	t.Metatable = lua.LNil
	layoutOf(t).array = append(items, values...)
	return t
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
