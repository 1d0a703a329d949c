package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/wire"
)

// plugin is one mounted app and the version of it that currently serves.
type plugin struct {
	name   string // "hello"; "index" for the root app
	prefix string // mount prefix: "/hello", or "" for the root
	src    int    // index of its source in Config.Plugins
	files  pluginFiles

	current atomic.Pointer[version]     // what serves requests; nil until the first load
	failed  atomic.Pointer[loadFailure] // the newest load, if it failed while an older version serves
	stats   *appStats                   // the app's counters; nil without Config.Metrics

	loading sync.Mutex // held through one load, so that loads of a plugin never overlap
	loads   int        // versions tried so far; guarded by loading
	assets  [32]byte   // digest of the assets last seen; guarded by loading
	removed bool       // unmounted; guarded by registry.mu

	// assetsChanged counts the asset edits seen without a reload; the
	// toolkit's template cache checks its files when it moves.
	assetsChanged atomic.Uint64
}

// version is one loaded generation of a plugin. Exactly one of pool and err
// is set: a plugin that has never loaded serves its error.
type version struct {
	n      int
	pool   *luabridge.Pool
	err    error
	digest [32]byte  // of the plugin's files, to skip reloads that change nothing
	at     time.Time // when it was swapped in
}

// loadFailure is a load that failed while an older version kept serving.
type loadFailure struct {
	err    error
	digest [32]byte
	at     time.Time
}

// mountTable maps mount prefixes to the plugins that serve. It is never
// changed in place: a change builds a new table and swaps it in, so lookups
// take no lock.
type mountTable map[string]*plugin

// registry keeps the mount table and loads, reloads and retires plugin
// versions, for every trigger through one door, [registry.update].
//
// # Updating
//
// In Caddy's order: the sources are scanned for what they hold now; under
// the lock, briefly, plugins that went away are unmounted and new ones
// noted; then every plugin to (re)load builds its new version outside the
// lock, a bounded number at a time (loadSlots), so that a slow main chunk
// delays only its own plugin. A version is built (compiled, its first Lua
// state opened, its main chunk run) and so validated before it is swapped
// in with one atomic store; a version that fails to load is never swapped
// in over one that works. The replaced version is retired: requests that
// hold one of its states finish on it, idle states close now and busy ones
// as they come back.
type registry struct {
	cfg     *Config
	sources []PluginSource
	wire    wire.Options
	log     *slog.Logger

	mounts atomic.Pointer[mountTable]
	events *broadcaster

	life context.Context // cancelled by close: loads in progress stop
	stop context.CancelFunc

	slots chan struct{} // one token per load that may run at once
	loads sync.WaitGroup

	reloadsOK, reloadsFailed atomic.Uint64 // loads of a plugin after its first

	mu      sync.Mutex         // guards what follows; never held through a load
	plugins map[string]*plugin // by prefix, mounted or still loading their first version
	retired []*luabridge.Pool  // replaced versions with states still in use
	closed  bool
}

// loadSlots bounds the plugins that load at once: loading is CPU work
// (compiling, running main chunks).
func loadSlots() int { return max(2, runtime.GOMAXPROCS(0)) }

func newRegistry(cfg *Config, sources []PluginSource) *registry {
	r := &registry{
		cfg:     cfg,
		sources: sources,
		log:     cfg.Logger,
		slots:   make(chan struct{}, loadSlots()),
		plugins: map[string]*plugin{},
		events:  newBroadcaster(),
		wire: wire.Options{Trust: cfg.Trust, Dev: cfg.Dev, Validate: cfg.Validate, Logger: cfg.Logger,
			Modules: cfg.Modules, Services: cfg.Services, Limits: cfg.Limits,
			StateMaxRequests: cfg.StateMaxRequests, StateMaxRequestsJitter: cfg.StateMaxRequestsJitter},
	}
	r.life, r.stop = context.WithCancel(context.Background())
	empty := mountTable{}
	r.mounts.Store(&empty)
	return r
}

// lookup finds the plugin mounted at the longest prefix of the escaped path
// on a segment boundary. It tries the path and then each prefix that ends
// before a '/', which are exactly the mounts [environ.CutMount] accepts
// (/app%2Fx is not under /app), longest first.
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

// mounted returns the mounted plugins sorted by prefix.
func (r *registry) mounted() []*plugin {
	table := *r.mounts.Load()
	out := make([]*plugin, 0, len(table))
	for _, pl := range table {
		out = append(out, pl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
	return out
}

// scope says what an update brings in line with the sources.
type scope struct {
	src   int      // the source to scan; -1 for every one
	names []string // with src, only these plugins of it; nil for all
	force bool     // load again even plugins whose files did not change
	start bool     // the first load: two apps on one mount is an error

	progress *loadProgress // if set, counts the loads as they end
}

// update is the one door of every change: the first load, a watcher's
// events, SIGHUP and [Handler.Reload] all come through it. It returns once
// every load it started has ended, or with ctx's error when ctx ends first
// (the loads then go on, bounded by the handler's life). An error reading a
// source is returned; a plugin that fails to load is not an error here.
func (r *registry) update(ctx context.Context, sc scope) error {
	found, err := r.scan(sc)
	if err != nil {
		return err
	}
	todo, err := r.plan(sc, found)
	if err != nil || len(todo) == 0 {
		return err
	}
	// A few workers per update, not a goroutine per plugin: a folder may
	// hold thousands. The slots bound the loads of all updates together.
	queue := make(chan *plugin, len(todo))
	for _, pl := range todo {
		queue <- pl
	}
	close(queue)
	sc.progress.begin(len(todo))
	var wg sync.WaitGroup
	for range min(len(todo), cap(r.slots)) {
		wg.Add(1)
		r.loads.Add(1)
		go func() {
			defer r.loads.Done()
			defer wg.Done()
			for pl := range queue {
				r.reload(pl, sc.force)
				sc.progress.note(pl.loadError() != nil)
			}
		}()
	}
	if err := waitGroup(ctx, &wg); err != nil {
		return fmt.Errorf("host: reload: %w", err)
	}
	return nil
}

// scanned is what one source holds now.
type scanned struct {
	src   int
	specs []*spec // nil entries: a name that holds no plugin (any more)
	names []string
}

// scan asks the sources in scope what they hold, without the lock.
func (r *registry) scan(sc scope) ([]scanned, error) {
	var out []scanned
	for i, src := range r.sources {
		if sc.src >= 0 && sc.src != i {
			continue
		}
		specs, err := src.scan(sc.names, r.log)
		if err != nil {
			return nil, err
		}
		out = append(out, scanned{src: i, specs: specs, names: sc.names})
	}
	return out, nil
}

// plan unmounts what the scan no longer finds and returns the plugins to
// load, new ones included, under the lock but without loading anything.
func (r *registry) plan(sc scope, found []scanned) ([]*plugin, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil
	}
	var todo []*plugin
	for _, s := range found {
		gone := map[string]*plugin{} // this source's plugins the scan did not find, by name
		for _, pl := range r.plugins {
			if pl.src == s.src && (s.names == nil || slices.Contains(s.names, pl.name)) {
				gone[pl.name] = pl
			}
		}
		for _, sp := range s.specs {
			if sp == nil {
				continue
			}
			pl, err := r.unsyncedPlugin(s.src, sp, sc.start)
			if err != nil {
				return nil, err
			}
			if pl != nil {
				delete(gone, pl.name)
				todo = append(todo, pl)
			}
		}
		for _, pl := range gone {
			r.unsyncedUnmount(pl)
		}
	}
	return todo, nil
}

// unsyncedPlugin returns the plugin a scan found: the one already known
// when it reads the same files, else a new one. A mount another source's
// plugin holds is an error at start and a logged refusal later. r.mu must
// be held.
func (r *registry) unsyncedPlugin(src int, sp *spec, start bool) (*plugin, error) {
	old := r.plugins[sp.prefix]
	switch {
	case old != nil && old.src != src:
		err := fmt.Errorf("host: two apps mounted at %q: %s and %s", mountName(sp.prefix), old.files.main(), sp.files.main())
		if start {
			return nil, err // a configuration mistake
		}
		r.log.Error("plugin skipped", "err", err)
		return nil, nil
	case old != nil && old.files.same(sp.files):
		return old, nil
	case old != nil:
		// NAME.lua became NAME/init.lua or back: a different plugin.
		r.unsyncedUnmount(old)
	}
	pl := &plugin{name: sp.name, prefix: sp.prefix, src: src, files: sp.files}
	if r.cfg.Metrics {
		pl.stats = &appStats{}
	}
	r.plugins[sp.prefix] = pl
	return pl, nil
}

// reload loads a new version of pl, unless its files are unchanged and
// force is false, and swaps it in. A version that fails to load replaces
// only a version that failed too.
func (r *registry) reload(pl *plugin, force bool) {
	pl.loading.Lock()
	defer pl.loading.Unlock()
	d, err := pl.files.digest()
	digest := d.code
	if err == nil && !force && r.unchanged(pl, digest) {
		r.checkAssets(pl, d.assets)
		return
	}
	pl.assets = d.assets
	start := time.Now()
	var pool *luabridge.Pool
	if err == nil {
		pool, err = r.build(pl)
	}
	pl.loads++
	took := time.Since(start).Round(time.Microsecond)

	r.mu.Lock()
	if r.closed || pl.removed {
		r.mu.Unlock()
		if pool != nil {
			pool.Close()
		}
		return
	}
	prev := pl.current.Load()
	if err != nil && prev != nil && prev.pool != nil {
		// Keep serving the version that works.
		pl.failed.Store(&loadFailure{err: err, digest: digest, at: time.Now()})
		r.reloadsFailed.Add(1)
		r.mu.Unlock()
		r.log.Error("app reload failed; the previous version keeps serving", "app", pl.name,
			"version", pl.loads, "serving", prev.n, "took", took, "err", err.Error())
		r.publish(pl, EventFailed, prev.n, err)
		return
	}
	r.unsyncedSwap(pl, &version{n: pl.loads, pool: pool, err: err, digest: digest, at: time.Now()})
	r.mu.Unlock()
	r.countLoad(pl, err)
	// Log only now, so that whoever waits for the line finds the app
	// serving.
	switch {
	case err != nil:
		r.log.Error("app failed to load", "app", pl.name, "mount", mountName(pl.prefix), "version", pl.loads, "err", err.Error())
		kind := EventFailed
		if prev == nil {
			kind = EventMounted
		}
		r.publish(pl, kind, 0, err)
	case prev == nil:
		r.log.Info("app mounted", "app", pl.name, "mount", mountName(pl.prefix), "file", pl.files.main(),
			"version", pl.loads, "took", took)
		r.publish(pl, EventMounted, pl.loads, nil)
	default:
		r.log.Info("app reloaded", "app", pl.name, "version", pl.loads, "took", took)
		r.publish(pl, EventReloaded, pl.loads, nil)
	}
}

// publish tells the handler's subscribers what happened to pl.
func (r *registry) publish(pl *plugin, kind EventKind, version int, err error) {
	r.events.publish(Event{Kind: kind, App: pl.name, Mount: mountName(pl.prefix), Version: version, Err: err})
}

// checkAssets notes an edit to pl's assets (templates, static files) that
// came without a change to its code: the app keeps its version and its
// state, its template cache looks at its files again, and the browser
// refresh reloads the pages. pl.loading must be held.
func (r *registry) checkAssets(pl *plugin, assets [32]byte) {
	if assets == pl.assets {
		return
	}
	pl.assets = assets
	pl.assetsChanged.Add(1)
	version := 0
	if cur := pl.current.Load(); cur != nil {
		version = cur.n
	}
	r.log.Info("app assets changed; no reload needed", "app", pl.name, "version", version)
	r.publish(pl, EventAssets, version, nil)
}

// unchanged reports whether digest is what pl already serves or what last
// failed, so that there is nothing to load. Going back to the files that
// serve (an undo after a broken save) clears the failure.
func (r *registry) unchanged(pl *plugin, digest [32]byte) bool {
	if cur := pl.current.Load(); cur != nil && cur.digest == digest {
		if f := pl.failed.Swap(nil); f != nil {
			r.log.Info("app restored", "app", pl.name, "version", cur.n)
			r.publish(pl, EventRestored, cur.n, nil)
		}
		return true
	}
	f := pl.failed.Load()
	return f != nil && f.digest == digest // the same broken content as last time
}

// countLoad counts a version swapped in, when it is not the plugin's
// first. pl.loading must be held.
func (r *registry) countLoad(pl *plugin, err error) {
	switch {
	case pl.loads <= 1:
	case err != nil:
		r.reloadsFailed.Add(1)
	default:
		r.reloadsOK.Add(1)
	}
}

// build compiles pl's files and opens the first Lua state of the new
// version, which runs its main chunk. It runs while a load slot is held and
// stops when the registry closes.
func (r *registry) build(pl *plugin) (*luabridge.Pool, error) {
	select {
	case r.slots <- struct{}{}:
	case <-r.life.Done():
		return nil, fmt.Errorf("host: load %s: %w", pl.name, r.life.Err())
	}
	defer func() { <-r.slots }()
	src, modules, assets, err := pl.files.load()
	if err != nil {
		return nil, err
	}
	prog, err := wire.Program(wire.App{Name: pl.name, Chunk: pl.files.main(), Source: src, Modules: modules, Assets: assets,
		AssetsChanged: &pl.assetsChanged, Files: pl.files.source}, r.wire)
	if err != nil {
		return nil, err
	}
	// The app's migrations (lsgi.db) run before its first state opens; one
	// that fails fails this load, so the previous version keeps serving.
	if err := r.cfg.Services.PrepareApp(r.life, pl.name, assets); err != nil {
		return nil, err
	}
	pool, err := luabridge.NewPool(r.life, prog, r.cfg.States)
	if err == nil && pl.stats != nil {
		pool.ObserveWaits(pl.stats.queueWait.observe)
	}
	return pool, err
}

// unsyncedSwap makes v pl's current version, mounts pl if it is not yet,
// and retires the version v replaces. r.mu must be held.
func (r *registry) unsyncedSwap(pl *plugin, v *version) {
	prev := pl.current.Swap(v)
	if v.pool != nil {
		pl.failed.Store(nil)
	}
	if prev != nil && prev.pool != nil {
		r.unsyncedRetire(prev.pool)
	}
	table := *r.mounts.Load()
	if table[pl.prefix] != pl {
		next := make(mountTable, len(table)+1)
		for k, p := range table {
			next[k] = p
		}
		next[pl.prefix] = pl
		r.mounts.Store(&next)
	}
}

// unsyncedUnmount removes a plugin from the mount table and retires its
// version. r.mu must be held.
func (r *registry) unsyncedUnmount(pl *plugin) {
	pl.removed = true
	delete(r.plugins, pl.prefix)
	table := *r.mounts.Load()
	if table[pl.prefix] == pl {
		next := make(mountTable, len(table))
		for k, p := range table {
			if p != pl {
				next[k] = p
			}
		}
		r.mounts.Store(&next)
		r.log.Info("app unmounted", "app", pl.name, "mount", mountName(pl.prefix))
		r.publish(pl, EventUnmounted, 0, nil)
	}
	if v := pl.current.Load(); v != nil && v.pool != nil {
		r.unsyncedRetire(v.pool)
	}
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

// close stops loads in progress, waits for them until ctx ends, and retires
// every version; states in use close when they come back. A load that
// outlives ctx closes its own version when it ends.
func (r *registry) close(ctx context.Context) error {
	r.stop()
	r.mu.Lock()
	r.closed = true
	for _, pl := range *r.mounts.Load() {
		if v := pl.current.Load(); v != nil && v.pool != nil {
			r.unsyncedRetire(v.pool)
		}
	}
	r.mu.Unlock()
	return waitGroup(ctx, &r.loads)
}

// waitGroup waits for wg until ctx ends.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func mountName(prefix string) string {
	if prefix == "" {
		return "/"
	}
	return prefix
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
