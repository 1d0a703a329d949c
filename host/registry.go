package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/lualib"
	lua "github.com/yuin/gopher-lua"
)

// plugin is one mounted app: a file in the plugins folder and the version
// of it that currently serves.
type plugin struct {
	name   string // "hello"; "index" for the root app
	prefix string // mount prefix: "/hello", or "" for the root
	file   string // main chunk, relative to the plugins folder
	dir    string // module folder, relative to the plugins folder ("." for single files)
	static *App   // set for an app mounted from Config.Apps rather than found in the folder

	current atomic.Pointer[version]     // what serves requests
	failed  atomic.Pointer[loadFailure] // the newest load, if it failed while an older version serves
	loads   int                         // versions tried so far; guarded by registry.mu
}

// version is one loaded generation of a plugin. Exactly one of pool and err
// is set: a plugin that has never loaded serves its error.
type version struct {
	n      int
	pool   *luabridge.Pool
	err    error
	digest [32]byte // of the plugin's files, to skip reloads that change nothing
}

// loadFailure is a load that failed while an older version kept serving.
type loadFailure struct {
	err    error
	digest [32]byte
}

// mountTable maps mount prefixes to plugins. It is never changed in place:
// a change builds a new table and swaps it in, so lookups take no lock.
type mountTable map[string]*plugin

// registry discovers plugins in a folder, keeps the mount table, and loads,
// reloads and retires plugin versions.
//
// # Swapping a version
//
// Following Caddy's order: the new version is compiled and one Lua state of
// it is opened (its main chunk run) first; only then is it swapped in, with
// one atomic store. Requests that already hold a state of the old version
// finish on it; the old pool is closed, which closes idle states now and
// busy ones as they come back. A version that fails to load is never swapped
// in.
type registry struct {
	fsys  fs.FS  // the plugins folder; nil when only Config.Apps are served
	root  string // Dir as given, for naming files in messages; "" for an fs.FS
	cfg   *Config
	setup func(L *lua.LState) error // opens Config.Modules in each new state

	mounts atomic.Pointer[mountTable]

	mu      sync.Mutex // serialises loads, reloads and table swaps
	retired []*luabridge.Pool
	closed  bool
}

func newRegistry(fsys fs.FS, root string, cfg *Config) *registry {
	r := &registry{fsys: fsys, root: root, cfg: cfg}
	empty := mountTable{}
	r.mounts.Store(&empty)
	return r
}

// lookup finds the plugin mounted at the longest prefix of the escaped path
// on a segment boundary. Matching the escaped form means /app%2Fx is not
// under /app.
func (r *registry) lookup(escapedPath string) (*plugin, string) {
	table := *r.mounts.Load()
	p := escapedPath
	for {
		if pl, ok := table[p]; ok {
			return pl, p
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return nil, ""
		}
		p = p[:i]
	}
}

// plugins returns the mounted plugins sorted by prefix.
func (r *registry) plugins() []*plugin {
	table := *r.mounts.Load()
	out := make([]*plugin, 0, len(table))
	for _, pl := range table {
		out = append(out, pl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
	return out
}

// ignored reports whether a folder entry is a hidden file or an editor
// leftover rather than a plugin: dot files, backups (*~), vim swap files and
// the "4913" file vim writes to test a folder (werkzeug's reloader skips the
// same).
func ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") ||
		strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") ||
		strings.HasSuffix(name, ".swo") || name == "4913"
}

// validName reports whether a plugin name can be a URL path segment as is.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// find says which plugin, if any, the folder now holds under name:
// NAME/init.lua wins over NAME.lua.
func (r *registry) find(name string) *plugin {
	if r.fsys == nil || ignored(name) || !validName(name) {
		return nil
	}
	pl := &plugin{name: name, prefix: "/" + name}
	if name == "index" {
		pl.prefix = ""
	}
	if st, err := fs.Stat(r.fsys, path.Join(name, "init.lua")); err == nil && !st.IsDir() {
		pl.file, pl.dir = path.Join(name, "init.lua"), name
		return pl
	}
	if st, err := fs.Stat(r.fsys, name+".lua"); err == nil && !st.IsDir() {
		pl.file, pl.dir = name+".lua", "."
		return pl
	}
	return nil
}

// names lists the plugin names the folder holds now.
func (r *registry) names() ([]string, error) {
	if r.fsys == nil {
		return nil, nil
	}
	entries, err := fs.ReadDir(r.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("host: read plugins folder %s: %w", r.display("."), err)
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lua")
		if ignored(e.Name()) || seen[name] {
			continue
		}
		if !validName(name) {
			if strings.HasSuffix(e.Name(), ".lua") || isDir(r.fsys, e) {
				r.cfg.Logger.Warn("plugin skipped: its name is not a plain URL segment (letters, digits, '-', '_', '.')", "file", r.display(e.Name()))
			}
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// isDir follows symlinks: a plugin folder may be a link.
func isDir(fsys fs.FS, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink != 0 {
		st, err := fs.Stat(fsys, e.Name())
		return err == nil && st.IsDir()
	}
	return false
}

// display names a file of the plugins folder the way the user knows it.
func (r *registry) display(name string) string {
	if r.root == "" {
		return name
	}
	return filepath.Join(r.root, filepath.FromSlash(name))
}

// digest hashes every file of a plugin: its main file, and for a folder
// plugin every file below the folder, so that an edit to a module or a
// template reloads it while a save that changes nothing does not.
func (r *registry) digest(pl *plugin) ([32]byte, error) {
	h := sha256.New()
	add := func(name string) error {
		data, err := fs.ReadFile(r.fsys, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
		return nil
	}
	var sum [32]byte
	if pl.static != nil {
		src, err := pl.static.source()
		if err != nil {
			return sum, err
		}
		return sha256.Sum256(src), nil
	}
	if pl.dir == "." {
		if err := add(pl.file); err != nil {
			return sum, err
		}
	} else {
		err := fs.WalkDir(r.fsys, pl.dir, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if name != pl.dir && ignored(d.Name()) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if st, err := fs.Stat(r.fsys, name); err != nil || st.IsDir() {
					return nil // a link to a folder or nowhere: not content
				}
			}
			return add(name)
		})
		if err != nil {
			return sum, err
		}
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// load compiles a plugin's main file and opens its first Lua state.
func (r *registry) load(ctx context.Context, pl *plugin) (*luabridge.Pool, error) {
	var (
		src     []byte
		chunk   string
		modules fs.FS
		err     error
	)
	if app := pl.static; app != nil {
		if src, err = app.source(); err != nil {
			return nil, err
		}
		chunk, modules = app.chunk(), app.modules()
	} else {
		chunk, modules = r.display(pl.file), r.fsys
		if src, err = fs.ReadFile(r.fsys, pl.file); err != nil {
			return nil, fmt.Errorf("host: read %s: %w", chunk, err)
		}
		if pl.dir != "." {
			if modules, err = fs.Sub(r.fsys, pl.dir); err != nil {
				return nil, fmt.Errorf("host: module folder of %s: %w", pl.name, err)
			}
		}
	}
	// The toolkit's shared state (template cache and such) lives as long
	// as this version. Templates and static files come only from a
	// plugin's own folder: a single-file plugin shares the plugins folder
	// with the others, whose sources are not for serving.
	assets := modules
	if pl.static == nil && pl.dir == "." {
		assets = nil
	}
	// Any change to the folder's files loads a new version, with a new
	// toolkit cache (unsyncedLoad), so cached templates are never stale.
	toolkit := lualib.NewShared(lualib.Options{FS: assets, Dev: r.cfg.Dev, Logger: r.cfg.Logger, Reloaded: true,
		App: pl.name, Services: r.cfg.Services, Limits: r.cfg.Limits})
	opts := luabridge.ProgramOptions{
		FS:     modules,
		Trust:  r.cfg.Trust,
		Logger: r.cfg.Logger,
		Limits: r.cfg.Limits,

		StateMaxRequests:       r.cfg.StateMaxRequests,
		StateMaxRequestsJitter: r.cfg.StateMaxRequestsJitter,
		Setup: func(L *lua.LState) error {
			toolkit.Preload(L)
			if r.setup != nil {
				return r.setup(L)
			}
			return nil
		},
	}
	if r.cfg.Validate || r.cfg.Dev {
		opts.Wrap = lualib.Validate
	}
	prog, err := luabridge.NewProgram(pl.name, chunk, src, opts)
	if err != nil {
		return nil, err
	}
	// The app's migrations (lsgi.db) run before its first state opens; one
	// that fails fails this load, so the previous version keeps serving.
	if err := r.cfg.Services.PrepareApp(ctx, pl.name, assets); err != nil {
		return nil, err
	}
	return luabridge.NewPool(ctx, prog, r.cfg.States)
}

// syncAll brings every mount in line with the folder. force reloads plugins
// even when their files did not change (SIGHUP).
func (r *registry) syncAll(ctx context.Context, force bool) error {
	names, err := r.names()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, name := range names {
		seen[name] = true
		r.unsyncedSync(ctx, name, force)
	}
	for _, pl := range *r.mounts.Load() {
		switch {
		case pl.static != nil:
			if force {
				r.unsyncedLoad(ctx, pl, true)
			}
		case !seen[pl.name]:
			r.unsyncedSync(ctx, pl.name, force)
		}
	}
	return nil
}

// mountStatic mounts an app of Config.Apps.
func (r *registry) mountStatic(ctx context.Context, app *App) error {
	prefix, err := app.prefix()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := (*r.mounts.Load())[prefix]; taken {
		return fmt.Errorf("host: two apps mounted at %q", app.Mount)
	}
	pl := &plugin{name: app.name(), prefix: prefix, static: app}
	r.unsyncedLoad(ctx, pl, false)
	return nil
}

// sync brings the mount of one plugin name in line with the folder.
func (r *registry) sync(ctx context.Context, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unsyncedSync(ctx, name, false)
}

// unsyncedSync mounts, reloads or unmounts the plugin called name, as the
// folder now says. r.mu must be held.
func (r *registry) unsyncedSync(ctx context.Context, name string, force bool) {
	if r.closed {
		return
	}
	table := *r.mounts.Load()
	var old *plugin
	for _, pl := range table {
		if pl.name == name {
			old = pl
		}
	}
	now := r.find(name)
	switch {
	case now == nil && old == nil:
		return
	case now == nil:
		r.unsyncedUnmount(old)
		return
	case old != nil && old.file != now.file:
		// NAME.lua became NAME/init.lua or back: a different plugin.
		r.unsyncedUnmount(old)
		old = nil
	}
	pl := old
	if pl == nil {
		pl = now
	}
	r.unsyncedLoad(ctx, pl, force)
}

// unsyncedLoad loads a new version of pl, unless its files are unchanged
// (and force is false), swaps it in, and mounts pl if it is not mounted yet.
// A version that fails to load replaces only a version that failed too.
// r.mu must be held.
func (r *registry) unsyncedLoad(ctx context.Context, pl *plugin, force bool) {
	table := *r.mounts.Load()
	mounted := table[pl.prefix] == pl
	digest, err := r.digest(pl)
	if err == nil && !force && mounted {
		if cur := pl.current.Load(); cur != nil && cur.digest == digest {
			return // saved without changes
		}
		if f := pl.failed.Load(); f != nil && f.digest == digest {
			return // the same broken content as last time
		}
	}
	start := time.Now()
	var pool *luabridge.Pool
	if err == nil {
		pool, err = r.load(ctx, pl)
	}
	pl.loads++
	took := time.Since(start)
	prev := pl.current.Load()
	if err != nil && prev != nil && prev.pool != nil {
		// Keep serving the version that works.
		pl.failed.Store(&loadFailure{err: err, digest: digest})
		r.cfg.Logger.Error("app reload failed; the previous version keeps serving", "app", pl.name,
			"version", pl.loads, "serving", prev.n, "took", took.Round(time.Microsecond), "err", err.Error())
		return
	}
	if err != nil {
		pl.current.Store(&version{n: pl.loads, err: err, digest: digest})
	} else {
		pl.current.Store(&version{n: pl.loads, pool: pool, digest: digest})
		pl.failed.Store(nil)
	}
	if prev != nil && prev.pool != nil {
		r.unsyncedRetire(prev.pool)
	}
	if !mounted {
		next := make(mountTable, len(table)+1)
		for k, v := range table {
			next[k] = v
		}
		next[pl.prefix] = pl
		r.mounts.Store(&next)
	}
	// Log only now, so that whoever waits for the line finds the app
	// serving.
	switch {
	case err != nil:
		r.cfg.Logger.Error("app failed to load", "app", pl.name, "mount", mountName(pl), "version", pl.loads, "err", err.Error())
	case prev == nil:
		r.cfg.Logger.Info("app mounted", "app", pl.name, "mount", mountName(pl), "file", r.fileName(pl),
			"version", pl.loads, "took", took.Round(time.Microsecond))
	default:
		r.cfg.Logger.Info("app reloaded", "app", pl.name, "version", pl.loads, "took", took.Round(time.Microsecond))
	}
}

// fileName names a plugin's main file for the log.
func (r *registry) fileName(pl *plugin) string {
	if pl.static != nil {
		return pl.static.chunk()
	}
	return r.display(pl.file)
}

// unsyncedUnmount removes a plugin from the mount table and retires its
// version. r.mu must be held.
func (r *registry) unsyncedUnmount(pl *plugin) {
	table := *r.mounts.Load()
	next := make(mountTable, len(table))
	for k, v := range table {
		if v != pl {
			next[k] = v
		}
	}
	r.mounts.Store(&next)
	if v := pl.current.Load(); v != nil && v.pool != nil {
		r.unsyncedRetire(v.pool)
	}
	r.cfg.Logger.Info("app unmounted", "app", pl.name, "mount", mountName(pl))
}

// unsyncedRetire closes a replaced version's pool. Its busy states close as
// their requests end; the pool is remembered until then so that
// [Handler.LiveStates] counts them. r.mu must be held.
func (r *registry) unsyncedRetire(p *luabridge.Pool) {
	p.Close()
	kept := r.retired[:0]
	for _, old := range r.retired {
		if old.Live() > 0 {
			kept = append(kept, old)
		}
	}
	r.retired = kept
	if p.Live() > 0 {
		r.retired = append(r.retired, p)
	}
}

// liveStates counts the Lua states open in every version, retired ones
// included.
func (r *registry) liveStates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.retired {
		n += p.Live()
	}
	for _, pl := range *r.mounts.Load() {
		if v := pl.current.Load(); v != nil && v.pool != nil {
			n += v.pool.Live()
		}
	}
	return n
}

func mountName(pl *plugin) string {
	if pl.prefix == "" {
		return "/"
	}
	return pl.prefix
}

// close retires every version; states in use close when they come back.
func (r *registry) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, pl := range *r.mounts.Load() {
		if v := pl.current.Load(); v != nil && v.pool != nil {
			r.unsyncedRetire(v.pool)
		}
	}
}

// errNotLoaded is what a mount whose plugin failed to load answers with.
var errNotLoaded = errors.New("host: app failed to load")

// loadError returns the error of the plugin's newest load, or nil when it
// loaded.
func (pl *plugin) loadError() error {
	if f := pl.failed.Load(); f != nil {
		return f.err
	}
	if v := pl.current.Load(); v != nil {
		return v.err
	}
	return nil
}
