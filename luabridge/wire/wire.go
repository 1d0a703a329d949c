// Package wire builds the programs of LSGI apps with everything an app gets
// besides the bridge: the toolkit's lsgi.* modules (package lualib), the Go
// modules of the program that embeds the host, and, when asked,
// lsgi.validator around the app.
//
// It sits apart from both packages it joins, so that neither imports the
// other: the bridge knows no toolkit, and the toolkit's tests open their Lua
// states with the bridge. With package luabridge and lualib it is all of
// the project that touches gopher-lua; the host hands it plain data.
package wire

import (
	"io/fs"
	"log/slog"
	"sync/atomic"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/lualib"
	lua "github.com/yuin/gopher-lua"
)

// Options are what every app of one host shares.
type Options struct {
	// Trust opens the whole Lua standard library (io, os, debug).
	Trust bool

	// Dev selects development mode for the toolkit: lsgi.middleware.errors
	// shows loopback clients the error and its traceback.
	Dev bool

	// Validate wraps every app in lsgi.validator (docs/modules/validator.md).
	Validate bool

	// Logger receives print output, lsgi.errors lines and the errors the
	// toolkit catches. Nil means slog.Default().
	Logger *slog.Logger

	// Modules are Go modules apps can require, by name.
	Modules map[string]luabridge.Loader

	// Services are the host-wide resources behind the toolkit's data
	// modules; nil means none.
	Services *lualib.Services

	// Limits bound what one builtin or toolkit call may build or walk;
	// zero fields take their defaults (docs/SECURITY.md, "Limits").
	Limits luabridge.Limits

	// StateMaxRequests, if positive, replaces a Lua state after it has
	// served this many requests, plus a random 0 to
	// StateMaxRequestsJitter.
	StateMaxRequests       int
	StateMaxRequestsJitter int
}

// App is one version of one app.
type App struct {
	// Name is the app's name (its mount name, "index" for the root app):
	// logs carry it, and the toolkit's data modules keep each app's data
	// apart by it.
	Name string

	// Chunk names the main chunk in errors and tracebacks (its path).
	Chunk string

	// Source is the main chunk's Lua source.
	Source []byte

	// Modules is the app's module folder: require, dofile and loadfile
	// look only here. Nil means none.
	Modules fs.FS

	// Assets is where lsgi.template and lsgi.middleware.static read from;
	// nil means nowhere (a single-file plugin shares its folder with other
	// plugins, whose sources are not for serving).
	Assets fs.FS

	// AssetsChanged counts the changes to Assets the host saw while this
	// version serves (see lualib.Options.AssetsChanged); nil means none.
	AssetsChanged *atomic.Uint64

	// Files returns a file of the app named as Lua errors name it, or
	// nil: under Options.Dev, error pages show the source around each of
	// the app's frames. Nil means no sources.
	Files func(file string) []byte
}

// Program compiles app's main chunk with the toolkit wired in. A syntax
// error is a *[luabridge.SyntaxError]; the chunk runs only when a state is
// opened ([luabridge.NewPool]).
//
// The toolkit's shared state (parsed templates and such) lives as long as
// the program: a host that loads a new version whenever a file of the app
// changes, as the plugin watcher does, never serves a stale template.
func Program(app App, opts Options) (*luabridge.Program, error) {
	toolkit := lualib.NewShared(lualib.Options{
		FS:       app.Assets,
		Dev:      opts.Dev,
		Logger:   opts.Logger,
		Reloaded: true,

		AssetsChanged: app.AssetsChanged,
		Files:         app.Files,
		App:           app.Name,
		Services:      opts.Services,
		Limits:        opts.Limits,
	})
	popts := luabridge.ProgramOptions{
		FS:     app.Modules,
		Trust:  opts.Trust,
		Logger: opts.Logger,
		Limits: opts.Limits,

		StateMaxRequests:       opts.StateMaxRequests,
		StateMaxRequestsJitter: opts.StateMaxRequestsJitter,
		Setup: func(L *lua.LState) error {
			toolkit.Preload(L)
			for name, loader := range opts.Modules {
				L.PreloadModule(name, loader)
			}
			return nil
		},
	}
	if opts.Validate {
		popts.Wrap = lualib.Validate
	}
	return luabridge.NewProgram(app.Name, app.Chunk, app.Source, popts)
}
