package host

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lsgi/lsgi/luabridge/appfs"
	"github.com/lsgi/lsgi/luabridge/lualib"
)

// A PluginSource supplies apps to a [Handler]: a plugins folder on disk
// ([Folder]), a plugins folder inside an fs.FS ([FolderFS]), or one app
// ([App]). [Config.Plugins] lists the sources a handler serves; no two of
// their apps may share a mount.
type PluginSource interface {
	// scan lists the plugins the source holds now; with names, only those
	// (a watcher's changes), each nil where the name holds no plugin. It
	// warns on log about what it skips.
	scan(names []string, log *slog.Logger) ([]*spec, error)
}

// spec is one plugin as its source finds it: where it mounts and how its
// files are read.
type spec struct {
	name   string // "hello"; "index" for the root app of a folder
	prefix string // mount prefix: "/hello", or "" for the root
	files  pluginFiles
}

// pluginFiles is how the registry reads one plugin, whatever its source.
type pluginFiles interface {
	// main names the main chunk, in logs and in Lua errors.
	main() string
	// digest hashes the files whose change makes a new version (the
	// code) apart from those the app reads as it runs (the assets).
	digest() (digests, error)
	// load reads the main chunk and says where the app's modules and
	// assets (templates, static files) come from.
	load() (src []byte, modules, assets fs.FS, err error)
	// source returns a file of the plugin named as its errors name it, or
	// nil: the development error page shows the lines around an error.
	source(file string) []byte
	// same reports whether other, found by a rescan of the same source,
	// reads the same files: then the plugin (and its versions) stays, else
	// it is a new plugin (NAME.lua became NAME/init.lua).
	same(other pluginFiles) bool
}

// Folder is a plugins folder on disk: NAME.lua is mounted at /NAME,
// NAME/init.lua at /NAME (with NAME/ as its module folder) and index.lua
// at / (docs/SPEC.md 12). Hidden files and editor leftovers are ignored.
type Folder struct {
	// Path is the folder.
	Path string

	// Watch reloads a plugin as soon as its files change, mounts new
	// plugins and unmounts removed ones. A new version is swapped in only
	// once it has loaded; until then, and when it fails, the previous
	// version keeps serving.
	Watch bool

	// PollInterval, if positive, makes Watch poll modification times at
	// this interval instead of using OS file events (for filesystems
	// without them, such as NFS). Watch falls back to polling by itself,
	// with one warning in the log, when OS events cannot be had, or when
	// watching every folder would take more than half of the system's
	// fs.inotify.max_user_watches. Polling looks at each plugin's files
	// apart, and waits at least ten times as long as a look took.
	PollInterval time.Duration

	// Isolate keeps single-file plugins (NAME.lua) from the files of the
	// folder: without it their module folder is the plugins folder, so
	// that one can require, dofile or loadfile another plugin's file, a
	// folder app's private modules included (require "blog.posts"). With
	// it they get only the host's and the toolkit's modules; a plugin
	// that needs modules of its own becomes a folder (NAME/init.lua).
	// Folder apps are confined to their own folder either way.
	Isolate bool

	// Watchers is how many processes watch this folder at once (the
	// worker processes of one supervisor): each takes that share of the
	// inotify watches the watcher allows itself, and polls past it. 0
	// means 1.
	Watchers int
}

func (f Folder) scan(names []string, log *slog.Logger) ([]*spec, error) {
	return f.tree().scan(names, log)
}

// tree is the folder as a pluginTree; New checks that it is a folder.
func (f Folder) tree() pluginTree {
	return pluginTree{fsys: os.DirFS(f.Path), root: f.Path, isolate: f.Isolate}
}

// FolderFS is a plugins folder inside an fs.FS (an embed.FS, say), laid out
// as a [Folder] and read once: its apps change with the program. Files are
// named by their path inside FS.
type FolderFS struct {
	FS fs.FS

	// Isolate keeps single-file plugins from the folder's files, as
	// Folder.Isolate does.
	Isolate bool
}

func (f FolderFS) scan(names []string, log *slog.Logger) ([]*spec, error) {
	return pluginTree{fsys: f.FS, isolate: f.Isolate}.scan(names, log)
}

// pluginTree reads a plugins folder from an fs.FS.
type pluginTree struct {
	fsys    fs.FS
	root    string // the folder as the user named it, for messages; "" for an fs.FS
	isolate bool   // single-file plugins get no module folder
}

// scan lists the plugins of the folder, or with names, finds each of them.
func (t pluginTree) scan(names []string, log *slog.Logger) ([]*spec, error) {
	if names == nil {
		var err error
		if names, err = t.names(log); err != nil {
			return nil, err
		}
	}
	out := make([]*spec, len(names))
	for i, name := range names {
		out[i] = t.find(name)
	}
	return out, nil
}

// names lists the plugin names the folder holds now.
func (t pluginTree) names(log *slog.Logger) ([]string, error) {
	entries, err := fs.ReadDir(t.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("host: read plugins folder %s: %w", t.display("."), err)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lua")
		if ignored(e.Name()) || seen[name] {
			continue
		}
		if !validName(name) {
			if strings.HasSuffix(e.Name(), ".lua") || isDir(t.fsys, e) {
				log.Warn("plugin skipped: its name is not a plain URL segment (letters, digits, '-', '_', '.')", "file", t.display(e.Name()))
			}
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// find says which plugin, if any, the folder holds under name:
// NAME/init.lua wins over NAME.lua.
func (t pluginTree) find(name string) *spec {
	if ignored(name) || !validName(name) {
		return nil
	}
	s := &spec{name: name, prefix: "/" + name}
	if name == "index" {
		s.prefix = ""
	}
	if st, err := fs.Stat(t.fsys, path.Join(name, "init.lua")); err == nil && !st.IsDir() {
		s.files = &treeFiles{tree: t, file: path.Join(name, "init.lua"), dir: name}
		return s
	}
	if st, err := fs.Stat(t.fsys, name+".lua"); err == nil && !st.IsDir() {
		s.files = &treeFiles{tree: t, file: name + ".lua", dir: "."}
		return s
	}
	return nil
}

// display names a file of the folder the way the user knows it.
func (t pluginTree) display(name string) string {
	if t.root == "" {
		return name
	}
	return filepath.Join(t.root, filepath.FromSlash(name))
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

// ValidPluginName reports whether name can name a plugin of a plugins
// folder ([Folder]), whose NAME.lua or NAME/init.lua is mounted at /NAME: a
// plain URL path segment (letters, digits, '-', '_', '.') that is neither
// hidden nor an editor leftover.
func ValidPluginName(name string) bool { return validName(name) && !ignored(name) }

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

// treeFiles are the files of one plugin of a folder.
type treeFiles struct {
	tree pluginTree
	file string // main chunk, relative to the folder
	dir  string // module folder, relative to the folder ("." for single files)
}

func (f *treeFiles) main() string { return f.tree.display(f.file) }

func (f *treeFiles) same(other pluginFiles) bool {
	o, ok := other.(*treeFiles)
	return ok && o.file == f.file
}

// digest hashes the main file, and for a folder plugin every file below the
// folder: the code (Lua files, the settings file, migrations) by content,
// so that an edit to a module reloads the app while a save that changes
// nothing does not; the assets (templates, static files, anything else)
// by name, size and modification time, so that an edit to one reaches the
// browser without a reload and without reading every image of the folder.
func (f *treeFiles) digest() (digests, error) {
	code, assets := sha256.New(), sha256.New()
	add := func(name string) error {
		if !isCode(strings.TrimPrefix(name, f.dir+"/")) {
			st, err := fs.Stat(f.tree.fsys, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(assets, "%s\x00%d\x00%d\x00", name, st.Size(), st.ModTime().UnixNano())
			return nil
		}
		data, err := fs.ReadFile(f.tree.fsys, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(code, "%s\x00%d\x00", name, len(data))
		code.Write(data)
		return nil
	}
	var d digests
	var err error
	if f.dir == "." {
		err = add(f.file)
	} else {
		err = fs.WalkDir(f.tree.fsys, f.dir, func(name string, e fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case name != f.dir && ignored(e.Name()) && e.IsDir():
				return fs.SkipDir
			case name != f.dir && ignored(e.Name()), e.IsDir():
				return nil
			case e.Type()&fs.ModeSymlink != 0:
				if st, err := fs.Stat(f.tree.fsys, name); err != nil || st.IsDir() {
					return nil // a link to a folder or nowhere: not content
				}
			}
			return add(name)
		})
	}
	if err != nil {
		return d, err
	}
	copy(d.code[:], code.Sum(nil))
	copy(d.assets[:], assets.Sum(nil))
	return d, nil
}

// digests are what a plugin's files hash to: the code, whose change makes
// a new version, and the assets, whose change reaches the app without one.
type digests struct {
	code, assets [32]byte
}

// isCode reports whether a file of a folder plugin (named relative to the
// folder) is read when a version loads, so that a change to it needs a new
// version: Lua sources, the settings file lsgi.config reads once
// (config.json) and lsgi.db's migrations (migrations/*.sql). Templates and
// static files are read as requests need them.
func isCode(name string) bool {
	return strings.HasSuffix(name, ".lua") || lualib.ReadAtLoad(name)
}

// load reads the main chunk. A folder plugin's modules, templates and
// static files come from its folder; a single-file plugin's modules from the
// plugins folder (none when the folder is isolated), and its assets from
// nowhere, since that folder holds the other plugins' sources, which are
// not for serving.
//
// The main chunk is read as every other file of a plugin is (package
// appfs): a symbolic link is followed only while it stays inside the
// plugins folder (a single file, or a plugin's folder itself) or the
// plugin's folder (its init.lua), so that a plugin that is a link to
// /etc/passwd does not show it in a syntax error.
func (f *treeFiles) load() (src []byte, modules, assets fs.FS, err error) {
	if f.dir == "." {
		if src, err = appfs.ReadFile(f.tree.fsys, f.file); err != nil {
			return nil, nil, nil, fmt.Errorf("host: read %s: %w", f.main(), err)
		}
		if f.tree.isolate {
			return src, nil, nil, nil
		}
		return src, f.tree.fsys, nil, nil
	}
	if _, err := appfs.Resolve(f.tree.fsys, ".", f.dir); err != nil {
		return nil, nil, nil, fmt.Errorf("host: plugin folder %s: %w", f.tree.display(f.dir), err)
	}
	if modules, err = fs.Sub(f.tree.fsys, f.dir); err != nil {
		return nil, nil, nil, fmt.Errorf("host: module folder of %s: %w", f.main(), err)
	}
	if src, err = appfs.ReadFile(modules, path.Base(f.file)); err != nil {
		return nil, nil, nil, fmt.Errorf("host: read %s: %w", f.main(), err)
	}
	return src, modules, modules, nil
}

// source reads a file of the plugins folder named as errors name it (its
// path on disk); nothing outside the folder is read.
func (f *treeFiles) source(file string) []byte {
	name := filepath.ToSlash(file)
	if f.tree.root != "" {
		rel, err := filepath.Rel(f.tree.root, file)
		if err != nil {
			return nil
		}
		name = filepath.ToSlash(rel)
	}
	if !fs.ValidPath(name) {
		return nil
	}
	data, _ := appfs.ReadFile(f.tree.fsys, name)
	return data
}

// App is one app mounted on its own, from a file or from Lua source held in
// memory.
type App struct {
	// Mount is the path prefix the app serves, "/" for everything; it
	// becomes SCRIPT_NAME (after Config.Root).
	Mount string

	// File is a Lua file; its folder is the app's module folder and the
	// folder of its templates and static files. When it is "", Source is
	// used instead.
	File string

	// Source is the app's Lua source, used when File is "".
	Source string

	// Name names the app in logs; the default is File's base name without
	// ".lua", or "app".
	Name string
}

func (a App) scan([]string, *slog.Logger) ([]*spec, error) {
	prefix := strings.TrimSuffix(a.Mount, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("host: app %s: mount %q must start with /", a.name(), a.Mount)
	}
	return []*spec{{name: a.name(), prefix: prefix, files: appFiles{a}}}, nil
}

func (a App) name() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.File != "":
		return strings.TrimSuffix(filepath.Base(a.File), ".lua")
	}
	return "app"
}

// appFiles are the files of an App.
type appFiles struct{ app App }

// main names the app's source: its file, or NAME.lua for source in memory.
func (f appFiles) main() string {
	if f.app.File != "" {
		return f.app.File
	}
	return f.app.name() + ".lua"
}

func (f appFiles) same(other pluginFiles) bool {
	o, ok := other.(appFiles)
	return ok && o.app == f.app
}

func (f appFiles) read() ([]byte, error) {
	if f.app.File == "" {
		return []byte(f.app.Source), nil
	}
	src, err := os.ReadFile(f.app.File)
	if err != nil {
		return nil, fmt.Errorf("host: read app %s: %w", f.app.File, err)
	}
	return src, nil
}

func (f appFiles) digest() (digests, error) {
	src, err := f.read()
	if err != nil {
		return digests{}, err
	}
	return digests{code: sha256.Sum256(src)}, nil
}

func (f appFiles) load() (src []byte, modules, assets fs.FS, err error) {
	if src, err = f.read(); err != nil {
		return nil, nil, nil, err
	}
	if f.app.File == "" {
		return src, nil, nil, nil
	}
	dir := os.DirFS(filepath.Dir(f.app.File))
	return src, dir, dir, nil
}

// source returns the app's own source, the only file of it errors name.
func (f appFiles) source(file string) []byte {
	if file != f.main() {
		return nil
	}
	src, _ := f.read()
	return src
}
