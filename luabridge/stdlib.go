package luabridge

// This file opens the standard library apps see: gopher-lua's libraries,
// with the functions that differ from Lua 5.1 replaced by our own
// (docs/modules/README.md, "Lua 5.1 compatibility"), the debugging helpers
// removed, and every function that builds a string bounded by [Limits].

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime/metrics"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// LibOptions configure [OpenLibsWith].
type LibOptions struct {
	// Trust opens the whole standard library (io, os, debug and file
	// loading anywhere); without it apps get the safe subset.
	Trust bool

	// Limits bound what the library's functions may build; zero fields
	// take their defaults.
	Limits Limits

	// Logger receives print, io.write, io.stdout and io.stderr output
	// (in default mode; under Trust io writes to the real files). Nil
	// means slog.Default().
	Logger *slog.Logger

	// App names the app in that output.
	App string
}

// lib is one library of the Lua standard library.
type lib struct {
	name string
	open lua.LGFunction
}

var (
	safeLibs = []lib{
		{lua.BaseLibName, lua.OpenBase},
		{lua.LoadLibName, lua.OpenPackage},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
		{lua.OsLibName, lua.OpenOs},
	}
	trustedLibs = []lib{{lua.IoLibName, lua.OpenIo}, {lua.DebugLibName, lua.OpenDebug}}
)

// safeOS lists the os functions an untrusted app may use: clocks and dates,
// nothing that touches files, processes or the environment.
var safeOS = []string{"time", "clock", "date", "difftime"}

// removedGlobals are globals of gopher-lua's base library that Lua 5.1
// does not have: _printregs, a debugging helper, prints raw registers to
// the host's stderr (an app could forge log lines with it), and
// _GOPHER_LUA_VERSION names the engine. Without them the globals are
// exactly Lua 5.1's.
var removedGlobals = []string{"_printregs", "_GOPHER_LUA_VERSION"}

// stdlib holds what the replaced functions of one Lua state share.
type stdlib struct {
	L      *lua.LState
	trust  bool
	limits Limits
	logger *slog.Logger
	app    string
	stdout *stdStream // io.write and io.stdout in default mode
	stderr *stdStream // io.stderr in default mode
	rand   *rand.Rand // math.random: one generator per state
	gc     map[string]int
}

// OpenLibsWith opens the standard library in a state made with
// SkipOpenLibs, as [OpenLibs] does, with options.
func OpenLibsWith(L *lua.LState, opts LibOptions) error {
	_, err := openStdlib(L, opts)
	return err
}

// openStdlib opens the libraries and installs the replacements; the
// returned stdlib lets the bridge flush io output at the end of a request.
func openStdlib(L *lua.LState, opts LibOptions) (*stdlib, error) {
	libs := safeLibs
	if opts.Trust {
		libs = append(append([]lib{}, safeLibs...), trustedLibs...)
	}
	for _, lib := range libs {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, fmt.Errorf("luabridge: open %s: %w", lib.name, err)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &stdlib{
		L: L, trust: opts.Trust, limits: opts.Limits.WithDefaults(), logger: opts.Logger, app: opts.App,
		rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		gc:   map[string]int{"setpause": 200, "setstepmul": 200},
	}
	s.stdout = &stdStream{logger: opts.Logger, app: opts.App, via: "io.stdout", level: slog.LevelInfo}
	s.stderr = &stdStream{logger: opts.Logger, app: opts.App, via: "io.stderr", level: slog.LevelWarn}
	for _, name := range removedGlobals {
		L.SetGlobal(name, lua.LNil)
	}
	s.installBase()
	s.installMath()
	s.installString()
	// string.find, match, gmatch and gsub, bounded (strpattern.go)
	openPatternFunctions(L, int(min(s.limits.MaxPatternSteps, math.MaxInt32)), int(min(s.limits.MaxStringBytes, math.MaxInt32)))
	s.installTable()
	s.installOS()
	s.installIO()
	s.installDebug()
	openEngineFixes(L, s.limits) // pcall, error, load, coroutines... (engine.go)
	if !opts.Trust {
		pkg := L.GetGlobal(lua.LoadLibName).(*lua.LTable)
		pkg.RawSetString("path", lua.LString(""))
		pkg.RawSetString("loadlib", lua.LNil)
		L.SetGlobal("dofile", lua.LNil)
		L.SetGlobal("loadfile", lua.LNil)
	}
	return s, nil
}

// setLoaded makes require(name) return mod, as the standard libraries do.
func setLoaded(L *lua.LState, name string, mod *lua.LTable) {
	L.SetGlobal(name, mod)
	L.SetField(L.GetField(L.Get(lua.RegistryIndex), "_LOADED"), name, mod)
}

// module returns the library table name, creating it if the library was
// not opened.
func (s *stdlib) module(name string) *lua.LTable {
	if t, ok := s.L.GetGlobal(name).(*lua.LTable); ok {
		return t
	}
	t := s.L.NewTable()
	setLoaded(s.L, name, t)
	return t
}

// flush sends the partial lines io output holds to the log.
func (s *stdlib) flush() {
	s.stdout.flush()
	s.stderr.flush()
}

func (s *stdlib) installBase() {
	L := s.L
	L.SetFuncs(L.Get(lua.GlobalsIndex).(*lua.LTable), map[string]lua.LGFunction{
		"tonumber":       baseToNumber,
		"tostring":       baseToString,
		"print":          s.basePrint,
		"unpack":         baseUnpack,
		"select":         baseSelect,
		"collectgarbage": s.baseCollectGarbage,
		"gcinfo":         baseGCInfo,
		"newproxy":       baseNewProxy,
	})
}

// baseToNumber is tonumber as Lua 5.1 has it: exponents, hexadecimal,
// "inf" and "nan", white space around the number, and bases 2 to 36 read
// as C's strtoul reads them.
func baseToNumber(L *lua.LState) int {
	base := optInt(L, 2, 10)
	if base == 10 {
		checkAny(L, 1)
		if f, ok := toNumber(L.Get(1)); ok {
			L.Push(lua.LNumber(f))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}
	s := checkString(L, 1)
	if base < 2 || base > 36 {
		argError(L, 2, "base out of range")
	}
	if n, ok := strtoul(s, base); ok {
		L.Push(lua.LNumber(float64(n)))
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

// tostringValue converts v as Lua 5.1's tostring does: __tostring first,
// numbers in "%.14g".
func tostringValue(L *lua.LState, v lua.LValue) lua.LValue {
	if mf := L.GetMetaField(v, "__tostring"); mf != lua.LNil {
		L.Push(mf)
		L.Push(v)
		L.Call(1, 1)
		r := L.Get(-1)
		L.Pop(1)
		return r
	}
	switch v := v.(type) {
	case lua.LString:
		return v
	case lua.LNumber:
		return lua.LString(formatNumber(float64(v)))
	}
	return lua.LString(v.String())
}

func baseToString(L *lua.LState) int {
	L.Push(tostringValue(L, checkAny(L, 1)))
	return 1
}

// basePrint writes to the host's log, tagged with the app, never to stdout
// (which is the response under CGI). As in Lua 5.1 it converts its
// arguments with the global tostring.
func (s *stdlib) basePrint(L *lua.LState) int {
	n := L.GetTop()
	tostring := L.GetGlobal("tostring")
	var b strings.Builder
	for i := 1; i <= n; i++ {
		L.Push(tostring)
		L.Push(L.Get(i))
		L.Call(1, 1)
		str, ok := L.Get(-1).(lua.LString)
		if !ok {
			raisef(L, "'tostring' must return a string to 'print'")
		}
		L.Pop(1)
		if i > 1 {
			b.WriteByte('\t')
		}
		if int64(b.Len()+len(str)) > s.limits.MaxStringBytes {
			raiseLimit(L, "print", "string-bytes", s.limits.MaxStringBytes, "the printed line")
		}
		b.WriteString(string(str))
	}
	s.logger.Info(b.String(), "app", s.app, "via", "print")
	return 0
}

// maxCStack is Lua 5.1's LUAI_MAXCSTACK: the most values a C function may
// push, which bounds unpack and string.byte.
const maxCStack = 8000

// baseUnpack is Lua 5.1's unpack, with its "too many results to unpack".
func baseUnpack(L *lua.LState) int {
	t := checkTable(L, 1)
	i := int64(optInt(L, 2, 1))
	var e int64
	if isNoneOrNil(L, 3) {
		e = int64(L.ObjLen(t))
	} else {
		e = int64(checkInt(L, 3))
	}
	if i > e {
		return 0
	}
	n := e - i + 1
	if n <= 0 || n+int64(L.GetTop()) > maxCStack {
		raisef(L, "too many results to unpack")
	}
	for k := i; k <= e; k++ {
		L.Push(rawGetInt(t, k))
	}
	return int(n)
}

// baseSelect is Lua 5.1's select: any string starting with "#" counts.
func baseSelect(L *lua.LState) int {
	n := L.GetTop()
	if s, ok := L.Get(1).(lua.LString); ok && strings.HasPrefix(string(s), "#") {
		L.Push(lua.LNumber(n - 1))
		return 1
	}
	i := checkInt(L, 1)
	if i < 0 {
		i = n + i
	} else if i > n {
		i = n
	}
	if i < 1 {
		argError(L, 1, "index out of range")
	}
	return n - i
}

// baseCollectGarbage answers Lua 5.1's options without forcing a
// collection: the Go collector is shared by every app of the process, so
// one app must not be able to run it in a loop. "count" reports the
// process's live heap.
func (s *stdlib) baseCollectGarbage(L *lua.LState) int {
	opt := optString(L, 1, "collect")
	ex := optInt(L, 2, 0)
	switch opt {
	case "collect", "stop", "restart":
		L.Push(lua.LNumber(0))
	case "count":
		L.Push(lua.LNumber(float64(heapBytes()) / 1024))
	case "step":
		L.Push(lua.LTrue)
	case "setpause", "setstepmul":
		L.Push(lua.LNumber(s.gc[opt]))
		s.gc[opt] = ex
	default:
		argError(L, 1, fmt.Sprintf("invalid option '%s'", opt))
	}
	return 1
}

// baseGCInfo is Lua 5.1's deprecated gcinfo: the heap in kilobytes.
func baseGCInfo(L *lua.LState) int {
	L.Push(lua.LNumber(heapBytes() / 1024))
	return 1
}

// heapBytes returns the bytes of live and not yet collected heap objects.
func heapBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// proxy marks the userdata newproxy makes, so that newproxy(p) can check
// that p is one.
type proxy struct{}

// baseNewProxy is Lua 5.1's newproxy: newproxy() is a bare userdata,
// newproxy(true) one with a fresh metatable, newproxy(p) one sharing the
// metatable of the proxy p. (gopher-lua never runs __gc.)
func baseNewProxy(L *lua.LState) int {
	ud := L.NewUserData()
	ud.Value = proxy{}
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if v {
			ud.Metatable = L.NewTable()
		}
	case *lua.LUserData:
		if _, ok := v.Value.(proxy); !ok {
			argError(L, 1, "boolean or proxy expected")
		}
		ud.Metatable = v.Metatable
	default:
		argError(L, 1, "boolean or proxy expected")
	}
	L.Push(ud)
	return 1
}

func (s *stdlib) installMath() {
	L := s.L
	m := s.module(lua.MathLibName)
	m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	L.SetFuncs(m, map[string]lua.LGFunction{
		"max":        mathExtreme(func(a, b float64) bool { return a > b }),
		"min":        mathExtreme(func(a, b float64) bool { return a < b }),
		"mod":        mathFmod,
		"fmod":       mathFmod,
		"modf":       mathModf,
		"random":     s.mathRandom,
		"randomseed": s.mathRandomseed,
	})
}

// mathExtreme returns math.max or math.min, which need at least one number.
func mathExtreme(better func(a, b float64) bool) lua.LGFunction {
	return func(L *lua.LState) int {
		best := checkNumber(L, 1)
		for i := 2; i <= L.GetTop(); i++ {
			if v := checkNumber(L, i); better(v, best) {
				best = v
			}
		}
		L.Push(lua.LNumber(best))
		return 1
	}
}

// mathFmod is C's fmod; Lua 5.1's math.mod is the same function.
func mathFmod(L *lua.LState) int {
	L.Push(lua.LNumber(math.Mod(checkNumber(L, 1), checkNumber(L, 2))))
	return 1
}

// mathModf is C's modf: an infinity has a zero fraction.
func mathModf(L *lua.LState) int {
	x := checkNumber(L, 1)
	ip, fp := math.Modf(x)
	if math.IsInf(x, 0) {
		fp = math.Copysign(0, x)
	}
	L.Push(lua.LNumber(ip))
	L.Push(lua.LNumber(fp))
	return 2
}

// mathRandom is Lua 5.1's math.random with its argument checks, drawing
// from the state's own generator.
func (s *stdlib) mathRandom(L *lua.LState) int {
	r := s.rand.Float64()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1)
		if u < 1 {
			argError(L, 1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1), checkInt(L, 2)
		if l > u {
			argError(L, 2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*(float64(u)-float64(l)+1)) + float64(l)))
	default:
		raisef(L, "wrong number of arguments")
	}
	return 1
}

// mathRandomseed seeds the state's generator, never the process's: an app
// cannot make another app's numbers predictable.
func (s *stdlib) mathRandomseed(L *lua.LState) int {
	seed := uint64(checkInt(L, 1))
	s.rand = rand.New(rand.NewPCG(seed, seed))
	return 0
}

// rawGetInt reads t[i] without metamethods for any integer i (gopher-lua's
// RawGetInt sees only the array part).
func rawGetInt(t *lua.LTable, i int64) lua.LValue {
	if i >= 1 && i < int64(lua.MaxArrayIndex) {
		if v := t.RawGetInt(int(i)); v != lua.LNil {
			return v
		}
	}
	return t.RawGet(lua.LNumber(i))
}
