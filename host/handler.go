package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/environ"
)

// Handler serves the mounted LSGI apps. It is an [http.Handler], and
// [Handler.ServeRequest] serves transports that are not net/http. Build it
// with [New] and release it with [Handler.Shutdown] or [Handler.Close].
type Handler struct {
	cfg      Config
	root     string // Config.Root without a trailing slash
	reg      *registry
	software environ.Gateway // the host's own part of every Gateway
	proxies  environ.Proxies
	access   *accessLog
	fence    *memFence // nil when Config.MaxMemory is negative
	watches  []*watcher
	log      *slog.Logger

	started   time.Time
	first     loadProgress  // the first load's
	ready     atomic.Bool   // the first load is over and Shutdown has not begun
	loaded    atomic.Bool   // the first load is over
	unmatched atomic.Uint64 // requests no mount took, with Config.Metrics

	closeOnce sync.Once
	closeErr  error
}

// New loads every app of cfg's sources and returns a handler serving them.
// A plugin that fails to load is logged and answers 500; New fails only
// when a source cannot be read or two apps claim one mount.
//
// Plugins load concurrently, a few at a time, and New returns once each
// has loaded or failed: a slow main chunk delays only its own plugin, up to
// the bound the bridge sets on main chunks.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.withDefaults()
	allow := cfg.ForwardedAllowIPs
	if allow == nil {
		allow = []string{"127.0.0.1", "::1"}
	}
	proxies, err := environ.ParseProxies(allow)
	if err != nil {
		return nil, fmt.Errorf("host: ForwardedAllowIPs: %w", err)
	}
	root := strings.TrimSuffix(cfg.Root, "/")
	if root != "" && !strings.HasPrefix(root, "/") {
		return nil, fmt.Errorf("host: Root %q must start with /", cfg.Root)
	}
	for _, src := range cfg.Plugins {
		if err := checkSource(src); err != nil {
			return nil, err
		}
	}
	format, err := parseAccessFormat(cfg.AccessLogFormat)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:      cfg,
		root:     root,
		software: environ.Gateway{ServerSoftware: ServerSoftware},
		proxies:  proxies,
		log:      cfg.Logger,
		started:  time.Now(),
	}
	h.reg = newRegistry(&h.cfg, cfg.Plugins)
	if cfg.AccessLog != nil {
		h.access = newAccessLog(cfg.AccessLog, format)
	}
	if cfg.MaxMemory > 0 {
		h.fence = newMemFence(cfg.MaxMemory, h.reg, cfg.Logger)
	}
	if cfg.BeforeLoad != nil {
		cfg.BeforeLoad(h)
	}
	if err := h.firstLoad(); err != nil {
		h.Close()
		return nil, err
	}
	for i, src := range cfg.Plugins {
		if f, ok := src.(Folder); ok && f.Watch {
			w, err := startWatcher(h.reg, i, f, cfg.Logger)
			if err != nil {
				h.Close()
				return nil, err
			}
			h.watches = append(h.watches, w)
		}
	}
	h.loaded.Store(true)
	h.ready.Store(true)
	return h, nil
}

// checkSource fails early for a plugins folder that is not there.
func checkSource(src PluginSource) error {
	f, ok := src.(Folder)
	if !ok {
		return nil
	}
	st, err := os.Stat(f.Path)
	if err != nil {
		return fmt.Errorf("host: plugins folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("host: plugins folder %s is not a directory", f.Path)
	}
	return nil
}

// NewApp returns a handler that serves one app, mounted at "/" whatever
// app.Mount says, with the rest of cfg, whose Plugins must be nil. States
// defaults to 1: one request at a time, as a test or a one-request process
// needs. It is the host of lsgi call, lsgi cgi and package lsgitest.
//
// An app that fails to load is not an error here, since over CGI it must
// still answer 500: see [Handler.Mounts].
func NewApp(app App, cfg Config) (*Handler, error) {
	if cfg.Plugins != nil {
		return nil, errors.New("host: NewApp serves its app alone; Config.Plugins must be nil")
	}
	app.Mount = "/"
	cfg.Plugins = []PluginSource{app}
	if cfg.States <= 0 {
		cfg.States = 1
	}
	return New(cfg)
}

// Reload loads every plugin again, changed or not, and mounts and unmounts
// plugins added to or removed from the folders. A plugin whose new version
// fails to load keeps serving its previous one. lsgi serve calls it on
// SIGHUP. It returns when every load has ended, or when ctx ends.
func (h *Handler) Reload(ctx context.Context) error {
	return h.reg.update(ctx, scope{src: -1, force: true})
}

// LiveStates returns the number of Lua states the handler has open, those
// of replaced versions still finishing requests included.
func (h *Handler) LiveStates() int { return h.reg.liveStates() }

// Mounts returns the mount prefixes ("/" for the root app) of the apps the
// handler serves, with the error of each app that failed to load.
func (h *Handler) Mounts() map[string]error {
	out := map[string]error{}
	for _, pl := range h.reg.mounted() {
		out[mountName(pl.prefix)] = pl.current.Load().err
	}
	return out
}

// AppInfo describes one mounted app.
type AppInfo struct {
	Name  string // "hello"; "index" for the root app
	Mount string // "/hello"; "/" for the root app
	File  string // its main file, named as its errors name it
	Err   error  // the error of its newest load; nil when that version serves
}

// Apps returns the mounted apps, sorted by mount.
func (h *Handler) Apps() []AppInfo {
	var out []AppInfo
	for _, pl := range h.reg.mounted() {
		out = append(out, AppInfo{Name: pl.name, Mount: mountName(pl.prefix), File: pl.files.main(), Err: pl.loadError()})
	}
	return out
}

// Shutdown stops the handler's background work and releases its Lua
// states: it stops the watchers, interrupts loads in progress and waits for
// them until ctx ends, and retires every version. Requests still running
// finish on their states, which close when the requests end. Call it once
// the server has stopped taking requests. It returns ctx's error if it
// gave up waiting; what it did not wait for ends on its own.
// Shutdown is idempotent.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.closeOnce.Do(func() {
		h.ready.Store(false)
		var errs []error
		h.CloseStreams()
		h.reg.stop() // loads in progress, the watchers' included, stop now
		for _, w := range h.watches {
			w.close()
		}
		h.fence.close()
		errs = append(errs, h.reg.close(ctx))
		if h.access != nil {
			errs = append(errs, h.access.close())
		}
		h.closeErr = errors.Join(errs...)
	})
	return h.closeErr
}

// Close is Shutdown with no bound on the wait for loads in progress, which
// it interrupts: only a single long Go call inside a main chunk can make it
// wait. Close is idempotent.
func (h *Handler) Close() error { return h.Shutdown(context.Background()) }
