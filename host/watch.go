package host

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
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

// racyWindow: files modified this recently are compared by content when
// polling, since file system timestamps are coarser than edits.
const racyWindow = 2 * time.Second

// allPlugins is the work key for "look at the whole folder".
const allPlugins = "*"

// watcher keeps the mounts in line with a plugins folder: it watches the
// folder and its subfolders with fsnotify (watching folders, not files, so
// that editors' atomic saves are seen), debounces events per plugin, and
// asks the registry to update the plugin they belong to. Where the OS
// watcher cannot be had it polls modification times instead.
type watcher struct {
	reg  *registry
	src  int // the folder's index among the registry's sources
	log  *slog.Logger
	root string

	fsw  *fsnotify.Watcher // nil when polling
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
		pending: map[string]*pendingSync{},
		work:    make(chan string, 64),
		stop:    make(chan struct{}),
	}
	if w.poll <= 0 {
		if err := w.startEvents(); err != nil {
			w.poll = time.Second
			log.Warn("cannot watch the plugins folder for changes; polling modification times instead",
				"err", err, "interval", w.poll, "hint", "raise fs.inotify.max_user_watches, or pass --poll to choose the interval")
		}
	}
	w.wg.Add(1)
	go w.worker()
	if w.fsw != nil {
		w.wg.Add(1)
		go w.events()
		log.Info("watching plugins for changes", "dir", root)
	} else {
		w.wg.Add(1)
		go w.polling()
		log.Info("polling plugins for changes", "dir", root, "interval", w.poll)
	}
	return w, nil
}

func (w *watcher) startEvents() error {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	w.fsw = fsw
	if err := w.watchTree(w.root); err != nil {
		fsw.Close()
		w.fsw = nil
		return err
	}
	return nil
}

// watchTree adds a watch on dir and every folder below it, following
// symlinks (a plugin folder may be a link) but never a loop.
func (w *watcher) watchTree(dir string) error {
	seen := map[string]bool{}
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || seen[real] || depth > 16 {
			return nil
		}
		seen[real] = true
		if err := w.fsw.Add(dir); err != nil {
			return fmt.Errorf("watch %s: %w", dir, err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil // gone already; its removal is an event of its own
		}
		for _, e := range entries {
			if ignored(e.Name()) {
				continue
			}
			sub := filepath.Join(dir, e.Name())
			if st, err := os.Stat(sub); err == nil && st.IsDir() {
				if err := walk(sub, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(dir, 0)
}

// events turns fsnotify events into debounced syncs.
func (w *watcher) events() {
	defer w.wg.Done()
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			w.event(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.schedule(allPlugins) // events were lost: look at everything
				continue
			}
			w.log.Warn("file watcher error", "err", err)
		case <-w.stop:
			return
		}
	}
}

// event maps one file event to the plugin it concerns.
func (w *watcher) event(ev fsnotify.Event) {
	rel, err := filepath.Rel(w.root, ev.Name)
	if err != nil || rel == "." {
		w.schedule(allPlugins)
		return
	}
	if ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove) {
		w.unwatch(ev.Name)
	}
	if ev.Has(fsnotify.Create) {
		if st, err := os.Stat(ev.Name); err == nil && st.IsDir() && !ignored(filepath.Base(ev.Name)) {
			if err := w.watchTree(ev.Name); err != nil {
				w.log.Warn("cannot watch a new folder", "dir", ev.Name, "err", err)
			}
		}
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	top, last := parts[0], parts[len(parts)-1]
	switch {
	case strings.HasPrefix(top, ".."):
		// Kubernetes ConfigMap volumes swap a "..data" symlink to publish
		// new content: every plugin may have changed.
		w.schedule(allPlugins)
	case ignored(top) || ignored(last):
		// Editor swap, backup and probe files.
	case len(parts) == 1:
		w.schedule(strings.TrimSuffix(top, ".lua"))
	default:
		w.schedule(top)
	}
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
				if w.fsw != nil {
					// A swapped symlink may now point at other folders.
					_ = w.watchTree(w.root)
				}
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

// polling compares a fingerprint of the folder (names, sizes and
// modification times, symlinks followed) at every tick.
func (w *watcher) polling() {
	defer w.wg.Done()
	t := time.NewTicker(w.poll)
	defer t.Stop()
	last := w.fingerprint()
	for {
		select {
		case <-t.C:
			if fp := w.fingerprint(); fp != last {
				last = fp
				select {
				case w.work <- allPlugins:
				case <-w.stop:
					return
				}
			}
		case <-w.stop:
			return
		}
	}
}

func (w *watcher) fingerprint() [32]byte {
	var lines []string
	seen := map[string]bool{}
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || seen[real] || depth > 16 {
			return
		}
		seen[real] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if ignored(e.Name()) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			st, err := os.Stat(p)
			if err != nil {
				continue
			}
			if st.IsDir() {
				walk(p, depth+1)
				continue
			}
			line := fmt.Sprintf("%s\x00%d\x00%d", p, st.Size(), st.ModTime().UnixNano())
			if time.Since(st.ModTime()) < racyWindow {
				// Two writes within one timestamp tick can leave size and
				// time unchanged (git's "racy" files): compare content.
				if data, err := os.ReadFile(p); err == nil {
					line += fmt.Sprintf("\x00%x", sha256.Sum256(data))
				}
			}
			lines = append(lines, line)
		}
	}
	walk(w.root, 0)
	sort.Strings(lines)
	return sha256.Sum256([]byte(strings.Join(lines, "\n")))
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
	if w.fsw != nil {
		w.fsw.Close()
	}
	w.wg.Wait()
	w.updates.Wait()
}
