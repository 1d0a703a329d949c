// Command embed serves LSGI apps from inside a Go program, beside the
// program's own Go handlers in one http.ServeMux.
//
//	go run ./examples/embed                      # http://127.0.0.1:8080
//	go run ./examples/embed -plugins ./plugins   # also serve a plugins folder under /plugins/
//
// It shows the four things a host program usually wants:
//
//   - an LSGI handler mounted under a prefix ([host.Config.Root] "/lua"), so
//     that SCRIPT_NAME starts with /lua and apps build correct links;
//   - Lua apps shipped inside the binary with embed.FS ([host.FolderFS]);
//   - a Go function exposed to Lua as a require-able module
//     ([host.Config.Modules]): require "greeter";
//   - a per-request environ entry computed in Go by a middleware
//     ([environ.WithVars]): example.user, here read from an X-User header
//     that stands in for real authentication.
//
// Routes:
//
//	GET /            a Go handler: a short index
//	GET /healthz     a Go handler: "ok"
//	/lua/...         the apps embedded from apps/ (/lua/hello)
//	/plugins/...     with -plugins DIR, the apps of DIR, reloaded on change
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/transport"
	lua "github.com/yuin/gopher-lua"
)

// embedded holds the apps compiled into the binary.
//
//go:embed apps
var embedded embed.FS

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program minus os.Exit, so that deferred cleanup runs.
func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("embed", flag.ContinueOnError)
	fset.SetOutput(stderr)
	addr := fset.String("addr", "127.0.0.1:8080", "`address` to listen on (port 0 picks a free one)")
	plugins := fset.String("plugins", "", "also serve the LSGI apps of this `folder` under /plugins/")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	app, err := newApp(*plugins, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer app.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	srv := transport.NewHTTPServer(ln.Addr().String(), app, logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Listening at: http://%s\n", ln.Addr())

	select {
	case err := <-served:
		logger.Error("server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server", "err", err)
		return 1
	}
	return 0
}

// app is the program's handler: a mux of Go handlers and LSGI hosts.
type app struct {
	http.Handler
	hosts []*host.Handler
}

// newApp builds the mux. With pluginsDir set, the apps of that folder are
// served under /plugins/ as well.
func newApp(pluginsDir string, logger *slog.Logger) (*app, error) {
	a := &app{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "A Go program with LSGI apps inside. Try /lua/hello (send X-User: you).")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})

	apps, err := fs.Sub(embedded, "apps")
	if err != nil {
		return nil, err
	}
	inside, err := host.New(host.Config{
		// Read once: an embedded app changes with the binary.
		Plugins: []host.PluginSource{host.FolderFS{FS: apps}},
		Root:    "/lua",
		Modules: modules,
		Logger:  logger,
	})
	if err != nil {
		return nil, err
	}
	a.hosts = append(a.hosts, inside)
	mux.Handle("/lua/", withUser(inside))

	if pluginsDir != "" {
		plugins, err := host.New(host.Config{
			// A folder on disk can be reloaded on change.
			Plugins: []host.PluginSource{host.Folder{Path: pluginsDir, Watch: true}},
			Root:    "/plugins",
			Modules: modules,
			Logger:  logger,
		})
		if err != nil {
			a.Close()
			return nil, err
		}
		a.hosts = append(a.hosts, plugins)
		mux.Handle("/plugins/", withUser(plugins))
	}
	a.Handler = mux
	return a, nil
}

// Close releases the Lua states of every LSGI host.
func (a *app) Close() error {
	var errs []error
	for _, h := range a.hosts {
		errs = append(errs, h.Close())
	}
	return errors.Join(errs...)
}

// modules are the Go modules the apps can require.
var modules = map[string]luabridge.Loader{
	"greeter": openGreeter,
}

// openGreeter pushes the greeter module: greeter.hello(name) returns a
// greeting built in Go.
func openGreeter(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"hello": func(L *lua.LState) int {
			name := L.CheckString(1)
			L.Push(lua.LString("Hello, " + name + ", from Go!"))
			return 1
		},
	}))
	return 1
}

// withUser adds example.user to each request's environ. A real program
// would take it from its authentication, not from a client's header.
func withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user := r.Header.Get("X-User"); user != "" {
			r = environ.WithVars(r, environ.Var{Name: "example.user", Value: user})
		}
		next.ServeHTTP(w, r)
	})
}
