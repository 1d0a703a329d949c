package host

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce timings: editors write a file in several steps (truncate, write,
// rename, chmod), so a plugin is reloaded once its events have been quiet
// for debounceQuiet, and never later than debounceMax after the first.
const (
	debounceQuiet = 25 * time.Millisecond
	debounceMax   = 250 * time.Millisecond
)

// defaultPoll is the polling interval when the watcher falls back to
// polling by itself.
const defaultPoll = time.Second

// allPlugins is the work key for "look at the whole folder".
const allPlugins = "*"

// watcher keeps the mounts in line with a plugins folder: it watches the
// folder and its subfolders with fsnotify (watching folders, not files, so
// that editors' atomic saves are seen), debounces events per plugin, and
// asks the registry to update the plugin they belong to. Where the OS
// watcher cannot be had, or would need more watches than the system
// spares, it polls modification times instead (poll.go).
//
// Only the events goroutine touches fsw once the watcher runs, so that it
// can give up on events and turn to polling by itself.
type watcher struct {
	reg  *registry
	src  int // the folder's index among the registry's sources
	log  *slog.Logger
	root string

	sharers int // processes watching root at once (Folder.Watchers), at least 1

	fsw  *fsnotify.Watcher // nil when polling from the start
	poll time.Duration

	mu      sync.Mutex
	pending map[string]*pendingSync

	work    chan string
	stop    chan struct{}
	wg      sync.WaitGroup // the watcher's own goroutines
	updates sync.WaitGroup // updates it started
}

type pendingSync struct {
	timer *time.Timer
	first time.Time
}

// startWatcher watches the folder that is source src of reg. With
// PollInterval > 0 it polls at that interval instead of using OS events.
// It logs one line saying which of the two it does, and why it polls when
// it was not asked to.
func startWatcher(reg *registry, src int, folder Folder, log *slog.Logger) (*watcher, error) {
	root := folder.Path
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("host: watch %s: %w", root, err)
	}
	w := &watcher{
		reg:     reg,
		src:     src,
		log:     log,
		root:    abs,
		poll:    folder.PollInterval,
		sharers: max(1, folder.Watchers),
		pending: map[string]*pendingSync{},
		work:    make(chan string, 64),
		stop:    make(chan struct{}),
	}
	w.wg.Add(1)
	go w.worker()
	switch {
	case w.poll > 0:
		log.Info("polling plugins for changes", "dir", root, "interval", w.poll)
	default:
		n, err := w.startEvents()
		if err == nil {
			log.Info("watching plugins for changes", "dir", root, "folders", n)
			w.wg.Add(1)
			go w.events()
			return w, nil
		}
		w.poll = defaultPoll
		w.logFallback(err)
	}
	w.wg.Add(1)
	go w.polling()
	return w, nil
}

// logFallback is the one line that says the watcher polls instead of
// watching, why, and what to change.
func (w *watcher) logFallback(err error) {
	hint := "raise fs.inotify.max_user_watches (sysctl), or pass --poll to choose the interval"
	if errors.Is(err, syscall.EMFILE) {
		hint = "raise fs.inotify.max_user_instances (sysctl), or pass --poll to choose the interval"
	}
	w.log.Warn("cannot watch the plugins folder for changes; polling modification times instead",
		"dir", w.root, "err", err.Error(), "interval", w.poll, "hint", hint)
}

// errTooManyFolders: watching the folder would take more inotify watches
// than one watcher may (watchBudget).
var errTooManyFolders = errors.New("host: too many folders to watch")

// startEvents opens the OS watcher on the folder tree and returns how many
// folders it watches. It fails, leaving no watch behind, when the tree
// needs more watches than watchBudget allows or the OS refuses one.
func (w *watcher) startEvents() (int, error) {
	dirs := watchDirs(w.root)
	if budget := watchBudget(); budget > 0 && len(dirs) > budget/w.sharers {
		if w.sharers > 1 {
			return 0, fmt.Errorf("%w: %d folders, more than a %d-th share of half of fs.inotify.max_user_watches (%d), which every program of the user shares and %d processes watch this folder with",
				errTooManyFolders, len(dirs), w.sharers, 2*budget, w.sharers)
		}
		return 0, fmt.Errorf("%w: %d folders, more than half of fs.inotify.max_user_watches (%d), which every program of the user shares",
			errTooManyFolders, len(dirs), 2*budget)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return 0, err
	}
	for _, dir := range dirs {
		// A folder removed since the walk: its removal is an event.
		if err := fsw.Add(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			fsw.Close()
			return 0, fmt.Errorf("watch %s: %w", dir, err)
		}
	}
	w.fsw = fsw
	return len(dirs), nil
}

// watchBudget is how many inotify watches one watcher may use: half of
// fs.inotify.max_user_watches, a limit every process of the user shares
// (8192 on many systems), so that lsgi leaves room for the editors and
// other programs that watch files too. 0 means no limit is known (not
// Linux). A variable, so that tests can lower it.
var watchBudget = func() int {
	data, err := os.ReadFile("/proc/sys/fs/inotify/max_user_watches")
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n <= 0 {
		return 0
	}
	return n / 2
}

// watchDirs lists dir and every folder below it, following symlinks (a
// plugin folder may be a link) but never a loop, and skipping hidden
// folders.
func watchDirs(dir string) []string {
	var out []string
	walkDirs(dir, func(d string, _ []os.DirEntry) { out = append(out, d) })
	return out
}

// walkDirs calls visit for dir and each folder below it with its entries,
// following symlinks but never a loop nor deeper than 16 levels, and
// skipping ignored names. Only symlinks cost a stat: the entries say what
// the others are.
func walkDirs(dir string, visit func(dir string, entries []os.DirEntry)) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return
	}
	walkDirsAt(dir, real, visit)
}

// walkDirsAt is walkDirs for a folder whose real path (symlinks resolved)
// the caller knows.
func walkDirsAt(dir, real string, visit func(dir string, entries []os.DirEntry)) {
	seen := map[string]bool{}
	var walk func(dir, real string, depth int)
	walk = func(dir, real string, depth int) {
		if seen[real] || depth > 16 {
			return
		}
		seen[real] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			return // gone already; its removal is an event of its own
		}
		visit(dir, entries)
		for _, e := range entries {
			if ignored(e.Name()) {
				continue
			}
			sub := filepath.Join(dir, e.Name())
			switch {
			case e.IsDir():
				walk(sub, filepath.Join(real, e.Name()), depth+1)
			case e.Type()&os.ModeSymlink != 0:
				if st, err := os.Stat(sub); err == nil && st.IsDir() {
					if target, err := filepath.EvalSymlinks(sub); err == nil {
						walk(sub, target, depth+1)
					}
				}
			}
		}
	}
	walk(dir, real, 0)
}

// watchTree adds a watch on dir and every folder below it. It runs on the
// events goroutine.
func (w *watcher) watchTree(dir string) error {
	for _, d := range watchDirs(dir) {
		if err := w.fsw.Add(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("watch %s: %w", d, err)
		}
	}
	return nil
}

// events turns fsnotify events into debounced syncs, until the watcher
// stops or gives up on events for polling.
func (w *watcher) events() {
	defer w.wg.Done()
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if err := w.event(ev); err != nil {
				w.fallBack(err)
				return
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: look at everything.
				if err := w.rescan(); err != nil {
					w.fallBack(err)
					return
				}
				continue
			}
			w.log.Warn("file watcher error", "err", err)
		case <-w.stop:
			return
		}
	}
}

// fallBack turns a running watcher to polling, when a new folder cannot be
// watched: the system ran out of watches.
func (w *watcher) fallBack(err error) {
	w.fsw.Close()
	w.poll = defaultPoll
	w.logFallback(err)
	w.schedule(allPlugins) // what changed while the watches were incomplete
	w.wg.Add(1)
	go w.polling()
}

// event maps one file event to the plugin it concerns. It returns an error
// when a new folder cannot be watched.
func (w *watcher) event(ev fsnotify.Event) error {
	rel, err := filepath.Rel(w.root, ev.Name)
	if err != nil || rel == "." {
		return w.rescan()
	}
	if ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove) {
		w.unwatch(ev.Name)
	}
	if ev.Has(fsnotify.Create) && w.fsw != nil {
		if st, err := os.Stat(ev.Name); err == nil && st.IsDir() && !ignored(filepath.Base(ev.Name)) {
			if err := w.watchTree(ev.Name); err != nil {
				return err
			}
		}
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	top, last := parts[0], parts[len(parts)-1]
	switch {
	case strings.HasPrefix(top, ".."):
		// Kubernetes ConfigMap volumes swap a "..data" symlink to publish
		// new content: every plugin may have changed.
		return w.rescan()
	case ignored(top) || ignored(last):
		// Editor swap, backup and probe files.
	case len(parts) == 1:
		w.schedule(strings.TrimSuffix(top, ".lua"))
	default:
		w.schedule(top)
	}
	return nil
}

// rescan schedules a look at the whole folder, after watching what a
// swapped symlink may now point at.
func (w *watcher) rescan() error {
	if w.fsw != nil {
		if err := w.watchTree(w.root); err != nil {
			return err
		}
	}
	w.schedule(allPlugins)
	return nil
}

// unwatch drops the watches on a folder that was renamed or removed, and on
// the folders below it. inotify keeps watching a renamed folder but reports
// its events under the old name, so a renamed plugin folder must be watched
// afresh under its new name (which its Create event does).
func (w *watcher) unwatch(name string) {
	if w.fsw == nil {
		return
	}
	for _, p := range w.fsw.WatchList() {
		if p == name || strings.HasPrefix(p, name+string(filepath.Separator)) {
			_ = w.fsw.Remove(p)
		}
	}
}

// schedule asks for a sync of key once its events have been quiet for
// debounceQuiet (per key, so a busy plugin does not delay another).
func (w *watcher) schedule(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.pending[key]; ok {
		if time.Since(p.first) < debounceMax-debounceQuiet {
			p.timer.Reset(debounceQuiet)
		}
		return
	}
	p := &pendingSync{first: time.Now()}
	p.timer = time.AfterFunc(debounceQuiet, func() {
		w.mu.Lock()
		delete(w.pending, key)
		w.mu.Unlock()
		select {
		case w.work <- key:
		case <-w.stop:
		}
	})
	w.pending[key] = p
}

// worker hands each debounced change to the registry. It does not wait
// for the update: the registry loads plugins concurrently, and a slow one
// must not hold back another plugin's change.
func (w *watcher) worker() {
	defer w.wg.Done()
	for {
		select {
		case key := <-w.work:
			sc := scope{src: w.src, names: []string{key}}
			if key == allPlugins {
				sc.names = nil
			}
			w.updates.Add(1)
			go func() {
				defer w.updates.Done()
				if err := w.reg.update(w.reg.life, sc); err != nil && w.reg.life.Err() == nil {
					w.log.Error("reload", "err", err)
				}
			}()
		case <-w.stop:
			return
		}
	}
}

// close stops watching and waits for the updates it started, which end
// promptly once the registry's life has ended.
func (w *watcher) close() {
	close(w.stop)
	w.mu.Lock()
	for key, p := range w.pending {
		p.timer.Stop()
		delete(w.pending, key)
	}
	w.mu.Unlock()
	w.wg.Wait() // the events goroutine may close fsw or start polling until it ends
	if w.fsw != nil {
		w.fsw.Close()
	}
	w.updates.Wait()
}
