package lualib

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// Lua-facing module names registered by [Shared.Preload].
const (
	ModRequest   = "lsgi.request"            // ModRequest is the Request object over environ.
	ModResponse  = "lsgi.response"           // ModResponse is the Response object, itself an app.
	ModRouter    = "lsgi.router"             // ModRouter routes by method and path pattern.
	ModValidator = "lsgi.validator"          // ModValidator is the lint middleware.
	ModBody      = "lsgi.body"               // ModBody has helpers to consume a body.
	ModErrors    = "lsgi.middleware.errors"  // ModErrors is the error-page middleware.
	ModHeaders   = "lsgi.middleware.headers" // ModHeaders is the response-header middleware.
	ModStatic    = "lsgi.middleware.static"  // ModStatic is the static-file middleware.
	ModGzip      = "lsgi.middleware.gzip"    // ModGzip is the compression middleware.
	ModTemplate  = "lsgi.template"           // ModTemplate renders html/template files.
	ModJSON      = "lsgi.json"               // ModJSON encodes and decodes JSON.
	ModHTML      = "lsgi.html"               // ModHTML escapes HTML.
	ModUtil      = "lsgi.util"               // ModUtil has URL, cookie and path helpers.
	ModShared    = "lsgi.shared"             // ModShared is the shared dictionaries.
	ModSession   = "lsgi.session"            // ModSession is the session middleware and CSRF tokens.
	ModConfig    = "lsgi.config"             // ModConfig reads allowed environment variables and the app's settings.
	ModCrypto    = "lsgi.crypto"             // ModCrypto has hashes, HMAC, random tokens and base64.
	ModWSAPI     = "lsgi.wsapi"              // ModWSAPI runs WSAPI apps as LSGI apps.
	ModDB        = "lsgi.db"                 // ModDB runs SQL on the app's database.
	ModHTTP      = "lsgi.http"               // ModHTTP makes outbound HTTP requests.

	modNative = "lsgi._native" // private helpers of the Lua modules

	// AliasJSON is the older name of lsgi.json. require finds it after
	// the app's own folder, so an app's json.lua wins (docs/SPEC.md, "The
	// Lua environment").
	AliasJSON = "json"
)

// luaSourceRoot is the folder of the embedded Lua sources.
const luaSourceRoot = "lua"

// luaModules maps each module written in Lua to its source under lua/.
var luaModules = map[string]string{
	ModBody:      "lsgi/body.lua",
	ModRequest:   "lsgi/request.lua",
	ModResponse:  "lsgi/response.lua",
	ModRouter:    "lsgi/router.lua",
	ModValidator: "lsgi/validator.lua",
	ModErrors:    "lsgi/middleware/errors.lua",
	ModHeaders:   "lsgi/middleware/headers.lua",
	ModStatic:    "lsgi/middleware/static.lua",
	ModGzip:      "lsgi/middleware/gzip.lua",
	ModSession:   "lsgi/session.lua",
	ModWSAPI:     "lsgi/wsapi.lua",
}

//go:embed lua
var luaSources embed.FS

// Options configure the toolkit for one app.
type Options struct {
	// FS is the app's own folder: templates and static files are read
	// from it and from nowhere else. It may be nil, in which case
	// lsgi.template and lsgi.middleware.static raise a clear error.
	FS fs.FS
	// Dev selects development mode: lsgi.middleware.errors renders a page
	// with the error and its Lua traceback, to loopback clients only.
	Dev bool
	// Logger receives the errors that lsgi.middleware.errors catches.
	// Nil means slog.Default().
	Logger *slog.Logger
	// App is the app's name (its mount name, "index" for the root app):
	// the data modules keep each app's data apart by it.
	App string
	// Services are the host's shared resources for the data modules; nil
	// means none (a Services zero value).
	Services *Services
	// Limits bound the strings and conversions of the toolkit's
	// functions (json, lsgi.template, lsgi.util, lsgi.html); zero fields
	// take their defaults.
	Limits luabridge.Limits
	// Reloaded tells the toolkit that the host loads a new version of the
	// app (with a new Shared) whenever a file in FS changes, as lsgi's
	// plugin watcher does: parsed templates then never need checking
	// against the files, which saves a stat per render.
	Reloaded bool
	// AssetsChanged, with Reloaded, counts the changes the host saw to
	// the app's files that need no new version (templates, static
	// files): a parsed template is checked against its files again once
	// the count has moved. Nil means the files never change while a
	// version serves.
	AssetsChanged *atomic.Uint64
	// Files returns a file of the app named as Lua errors name it
	// ("plugins/blog/init.lua"), or nil: lsgi.middleware.errors shows the
	// source around the app's frames on its development page. Nil means
	// no sources.
	Files func(file string) []byte
}

// Shared is the Go-side state shared by every Lua state of one app version:
// the parsed-template cache and the static files' content-hash cache.
//
// It is safe for concurrent use.
type Shared struct {
	fsys      fs.FS
	dev       bool
	logger    *slog.Logger
	limits    luabridge.Limits
	templates templateCache
	hashes    sync.Map // static file key -> ETag computed from content
	app       string
	services  *Services
	settings  settingsFile
	files     func(file string) []byte // Options.Files
}

// NewShared returns the shared state for one app version configured by opts.
func NewShared(opts Options) *Shared {
	s := &Shared{fsys: opts.FS, dev: opts.Dev, logger: opts.Logger, app: opts.App, services: opts.Services,
		limits: opts.Limits.WithDefaults(), files: opts.Files}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.services == nil {
		s.services = &Services{}
	}
	s.templates.init()
	s.templates.reloaded = opts.Reloaded
	s.templates.epoch = opts.AssetsChanged
	return s
}

// Preload registers every toolkit module in L's package.preload, so that
// `require "lsgi.router"` and the others work. Modules are loaded lazily, on
// their first require in that state. L needs only the safe standard library
// (base, package, table, string, math, coroutine); Preload panics if L has
// no package library, a programming error of the host.
func (s *Shared) Preload(L *lua.LState) {
	L.PreloadModule(ModUtil, s.openUtil)
	L.PreloadModule(ModHTML, s.openHTML)
	L.PreloadModule(ModJSON, s.openJSON)
	L.PreloadModule(AliasJSON, requireAs(L.GetGlobal("require"), ModJSON))
	L.PreloadModule(ModTemplate, s.openTemplate)
	L.PreloadModule(modNative, s.openNative)
	L.PreloadModule(ModShared, s.openShared)
	L.PreloadModule(ModConfig, s.openConfig)
	L.PreloadModule(ModCrypto, openCrypto)
	L.PreloadModule(ModDB, s.openDB)
	L.PreloadModule(ModHTTP, s.openHTTP)
	L.PreloadModule(ModLog, s.openLog)
	L.PreloadModule(ModLSGI, openLSGI)
	for name := range luaModules {
		L.PreloadModule(name, luaLoader(name))
	}
	s.addShimSearcher(L)
}

// Validate wraps app in the lsgi.validator middleware, as `lsgi serve --dev`
// does for every app. L must have been set up with [Shared.Preload].
func Validate(L *lua.LState, app lua.LValue) (lua.LValue, error) {
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(ModValidator)); err != nil {
		return nil, fmt.Errorf("lualib: load %s: %w", ModValidator, err)
	}
	mod := L.Get(-1)
	L.Pop(1)
	wrap := L.GetField(mod, "wrap")
	if err := L.CallByParam(lua.P{Fn: wrap, NRet: 1, Protect: true}, app); err != nil {
		return nil, fmt.Errorf("lualib: wrap app in %s: %w", ModValidator, err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return v, nil
}

// protos caches each Lua module compiled once per process: a FunctionProto
// is immutable and can be instantiated in any number of states.
var protos struct {
	sync.Mutex
	m map[string]*lua.FunctionProto
}

// compileModule returns the compiled chunk of the Lua module name.
func compileModule(name string) (*lua.FunctionProto, error) {
	protos.Lock()
	defer protos.Unlock()
	if p, ok := protos.m[name]; ok {
		return p, nil
	}
	file, ok := luaModules[name]
	if !ok {
		file = shimModules[name]
	}
	src, err := luaSources.ReadFile(luaSourceRoot + "/" + file)
	if err != nil {
		return nil, err
	}
	p, err := luabridge.Compile(file, src)
	if err != nil {
		return nil, err
	}
	if protos.m == nil {
		protos.m = make(map[string]*lua.FunctionProto)
	}
	protos.m[name] = p
	return p, nil
}

// luaLoader returns the package.preload loader of the Lua module name.
func luaLoader(name string) lua.LGFunction {
	return func(L *lua.LState) int {
		p, err := compileModule(name)
		if err != nil {
			L.RaiseError("lualib: compile %s: %s", name, err.Error())
		}
		L.Push(L.NewFunctionFromProto(p))
		L.Push(lua.LString(name))
		L.Call(1, 1)
		return 1
	}
}

// requireAs returns a loader that gives the module name: an alias shares
// the module's table (and so json.null is the same value under both
// names).
func requireAs(require lua.LValue, name string) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(require)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		return 1
	}
}

// newModule returns a fresh module table holding funcs.
func newModule(L *lua.LState, funcs map[string]lua.LGFunction) *lua.LTable {
	t := L.CreateTable(0, len(funcs)+2)
	L.SetFuncs(t, funcs)
	return t
}
