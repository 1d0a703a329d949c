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
)

// plugin is one mounted app: a file in the plugins folder and the version
// of it that currently serves.
type plugin struct {
	name   string // "hello"; "index" for the root app
	prefix string // mount prefix: "/hello", or "" for the root
	file   string // main chunk, relative to the plugins folder
	dir    string // module folder, relative to the plugins folder ("." for single files)

	current atomic.Pointer[version]
}

// version is one loaded generation of a plugin. Exactly one of pool and err
// is set.
type version struct {
	n    int
	pool *luabridge.Pool
	err  error
	hash [32]byte // of the main file, to skip reloads that change nothing
}

// mountTable maps mount prefixes to plugins. It is never changed in place:
// a change builds a new table and swaps it in, so lookups take no lock.
type mountTable map[string]*plugin

// registry discovers plugins in a folder and keeps the mount table.
type registry struct {
	fsys    fs.FS
	root    string // Dir as given, for naming files in messages; "" for an fs.FS
	cfg     *Config
	mounts  atomic.Pointer[mountTable]
	mu      sync.Mutex // serialises loads, reloads and table swaps
	closing bool
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

// ignored reports whether a directory entry is a hidden file or an editor
// leftover rather than a plugin: dot files, backups (*~), vim swap files and
// the "4913" file vim writes to test a folder.
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

// discover lists the plugins in the folder: NAME/init.lua, NAME.lua and
// index.lua. A folder with init.lua wins over a file of the same name.
func (r *registry) discover() ([]*plugin, error) {
	entries, err := fs.ReadDir(r.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("host: read plugins folder %s: %w", r.display("."), err)
	}
	found := map[string]*plugin{}
	add := func(pl *plugin) {
		if !validName(pl.name) {
			r.cfg.Logger.Warn("plugin skipped: its name is not a plain URL segment (letters, digits, '-', '_', '.')", "file", r.display(pl.file))
			return
		}
		if prev, ok := found[pl.name]; ok {
			r.cfg.Logger.Warn("plugin file shadowed by a folder of the same name", "file", r.display(pl.file), "folder", r.display(prev.dir))
			return
		}
		pl.prefix = "/" + pl.name
		if pl.name == "index" {
			pl.prefix = ""
		}
		found[pl.name] = pl
	}
	for _, e := range entries { // folders first, so they win
		if name := e.Name(); !ignored(name) && isDir(r.fsys, e) {
			if st, err := fs.Stat(r.fsys, path.Join(name, "init.lua")); err == nil && !st.IsDir() {
				add(&plugin{name: name, file: path.Join(name, "init.lua"), dir: name})
			}
		}
	}
	for _, e := range entries {
		if name := e.Name(); !ignored(name) && strings.HasSuffix(name, ".lua") && !isDir(r.fsys, e) {
			add(&plugin{name: strings.TrimSuffix(name, ".lua"), file: name, dir: "."})
		}
	}
	out := make([]*plugin, 0, len(found))
	for _, pl := range found {
		out = append(out, pl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
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

// load compiles a plugin's main file and opens its first Lua state. A
// failure is kept in the version, so the mount can answer 500 and say why.
func (r *registry) load(ctx context.Context, pl *plugin, n int) *version {
	v := &version{n: n}
	src, err := fs.ReadFile(r.fsys, pl.file)
	if err != nil {
		v.err = fmt.Errorf("host: read %s: %w", r.display(pl.file), err)
		return v
	}
	v.hash = sha256.Sum256(src)
	var modules fs.FS = r.fsys
	if pl.dir != "." {
		if modules, err = fs.Sub(r.fsys, pl.dir); err != nil {
			v.err = fmt.Errorf("host: module folder of %s: %w", pl.name, err)
			return v
		}
	}
	prog, err := luabridge.NewProgram(pl.name, r.display(pl.file), src, luabridge.ProgramOptions{
		FS:     modules,
		Trust:  r.cfg.Trust,
		Logger: r.cfg.Logger,
	})
	if err != nil {
		v.err = err
		return v
	}
	pool, err := luabridge.NewPool(ctx, prog, r.cfg.States)
	if err != nil {
		v.err = err
		return v
	}
	v.pool = pool
	return v
}

// loadAll discovers and loads every plugin and mounts them. Failures are
// logged and mounted as such; only an unreadable folder is an error.
func (r *registry) loadAll(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	found, err := r.discover()
	if err != nil {
		return err
	}
	table := mountTable{}
	for _, pl := range found {
		start := time.Now()
		v := r.load(ctx, pl, 1)
		pl.current.Store(v)
		table[pl.prefix] = pl
		r.logLoad(pl, v, time.Since(start))
	}
	r.mounts.Store(&table)
	return nil
}

func (r *registry) logLoad(pl *plugin, v *version, took time.Duration) {
	mount := pl.prefix
	if mount == "" {
		mount = "/"
	}
	if v.err != nil {
		r.cfg.Logger.Error("app failed to load", "app", pl.name, "mount", mount, "version", v.n, "err", v.err.Error())
		return
	}
	r.cfg.Logger.Info("app mounted", "app", pl.name, "mount", mount, "file", r.display(pl.file), "version", v.n, "took", took.Round(time.Microsecond))
}

// close retires every version; states in use close when they come back.
func (r *registry) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closing = true
	for _, pl := range *r.mounts.Load() {
		if v := pl.current.Load(); v != nil && v.pool != nil {
			v.pool.Close()
		}
	}
}

// errNotLoaded is what a mount whose plugin failed to load answers with.
var errNotLoaded = errors.New("host: app failed to load")
