package host

// This file is the memory fence (docs/SECURITY.md, "The memory fence"). A
// Go process that runs out of memory ends with a fatal error that no
// recover catches, taking every app with it, and gopher-lua counts no
// memory of its own. So a watchdog samples the Go heap; past
// Config.MaxMemory it stops the requests running Lua code (their contexts
// are cancelled: gopher-lua checks between instructions, the bounded
// builtins as they go), discards their states, measures the idle states
// and discards those that hold much, logs what it did and to which app,
// and the host keeps serving.
//
// Why every request running Lua, and not the biggest: a busy state cannot
// be measured while its request runs (gopher-lua's tables are Go maps, and
// reading one while its goroutine writes it is a fatal error), and a bomb
// that doubles a string each instruction leaves the fence one round to
// act in, not several. Idle states can be measured, so only those that
// hold memory are discarded. Each stopped request is logged with how long
// it ran and the heap when it began: the request that started when the
// heap was small and ran longest is the one that grew it.

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/sysmem"
)

const (
	// fenceSampleEvery is how often the watchdog reads the heap size: a
	// read costs a quarter of a microsecond, and a bomb that doubles a
	// string needs tens of milliseconds per step at the sizes that matter.
	fenceSampleEvery = 10 * time.Millisecond

	// footprintBudget bounds the values one state's footprint walk
	// visits (a few milliseconds).
	footprintBudget = 200_000

	// fenceStopWait bounds how long a trip waits for the requests it
	// stopped to unwind before it measures the heap again.
	fenceStopWait = 2 * time.Second

	// minHoard is the smallest footprint for which an idle state is
	// discarded whatever the limit.
	minHoard = 16 << 20
)

// heapMetric is the Go heap's objects, live or not yet swept: what the
// fence compares to its limit.
const heapMetric = "/memory/classes/heap/objects:bytes"

// DefaultMaxMemory is the default of Config.MaxMemory: a third of the
// memory the process may use (see [sysmem.Available]), which it returns
// too. A third, because the fence acts between Lua instructions, and one
// instruction can take more than the fence allows: `s = s .. s` holds the
// string, its double and the string of the step before while the copy
// runs. A heap just under the fence can so reach about 2.3 times it in
// the instruction that follows; a third leaves that, and the Go
// runtime's own memory, under what the process may use.
func DefaultMaxMemory() (int64, sysmem.Memory) {
	avail := sysmem.Available()
	return avail.Bytes / 3, avail
}

// memFence is the watchdog of one Handler.
type memFence struct {
	limit   int64
	trigger atomic.Int64 // heap size that trips the fence: limit, or above it after a trip that freed too little
	heap    atomic.Int64 // last sample
	reg     *registry
	log     *slog.Logger
	sample  []metrics.Sample // the watchdog's own

	mu       sync.Mutex
	flights  flight // sentinel of the list of requests running Lua
	epoch    context.Context
	endEpoch context.CancelFunc

	quit chan struct{}
	done chan struct{}
}

// flight is one request running Lua, as the fence knows it. It lives in
// the request's pooled exchange, so tracking allocates nothing.
type flight struct {
	prev, next  *flight
	app         string
	dl          *requestDeadline // ended with context.Canceled to stop the request
	start       time.Time
	heapAtStart int64 // the heap when the request began
	stopped     bool  // by the fence; guarded by memFence.mu
}

// newMemFence starts the watchdog of a handler whose apps live in reg.
// It lowers the Go soft memory limit (GOMEMLIMIT) to nine tenths of the
// fence when it is above, so that the garbage collector works hard before
// the fence stops anything, and garbage never trips it.
func newMemFence(limit int64, reg *registry, log *slog.Logger) *memFence {
	f := &memFence{
		limit:  limit,
		reg:    reg,
		log:    log,
		sample: []metrics.Sample{{Name: heapMetric}},
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	f.flights.prev, f.flights.next = &f.flights, &f.flights
	f.trigger.Store(limit)
	f.epoch, f.endEpoch = context.WithCancel(context.Background())
	if soft := limit / 10 * 9; soft < debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(soft)
	}
	f.heap.Store(f.read())
	go f.watch()
	return f
}

// read samples the heap.
func (f *memFence) read() int64 {
	metrics.Read(f.sample)
	return int64(f.sample[0].Value.Uint64())
}

// close stops the watchdog.
func (f *memFence) close() {
	if f == nil {
		return
	}
	close(f.quit)
	<-f.done
	f.endEpoch()
}

func (f *memFence) watch() {
	defer close(f.done)
	tick := time.NewTicker(fenceSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-f.quit:
			return
		case <-tick.C:
		}
		heap := f.read()
		f.heap.Store(heap)
		switch {
		case heap > f.trigger.Load():
			f.trip(heap)
		case heap < f.limit:
			f.trigger.Store(f.limit)
		}
	}
}

// enter records a request about to run Lua code on a state under dl, the
// context the fence ends to stop it. It returns the context that bounds
// the request's result:close().
func (f *memFence) enter(fl *flight, app string, dl *requestDeadline) context.Context {
	if f == nil {
		return nil
	}
	fl.app, fl.dl, fl.start, fl.heapAtStart, fl.stopped = app, dl, time.Now(), f.heap.Load(), false
	f.mu.Lock()
	fl.prev, fl.next = f.flights.prev, &f.flights
	fl.prev.next, f.flights.prev = fl, fl
	epoch := f.epoch
	f.mu.Unlock()
	return epoch
}

// leave records the end of a request's run on st and reports whether the
// fence stopped it; then the caller discards st. It logs what the state
// still holds (its globals, upvalues and modules: what it would keep).
func (f *memFence) leave(fl *flight, st *luabridge.State) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	fl.prev.next, fl.next.prev = fl.next, fl.prev
	fl.prev, fl.next = nil, nil
	stopped := fl.stopped
	f.mu.Unlock()
	fl.dl = nil
	if stopped {
		fp := st.Footprint(footprintBudget)
		f.log.Warn("memory fence: stopped a request; its Lua state is discarded", "app", fl.app,
			"ran", time.Since(fl.start).Round(time.Millisecond), "heap_at_start", fl.heapAtStart,
			"state_holds", fp.Bytes, "walk_complete", fp.Complete)
	}
	return stopped
}

// trip stops what holds memory: every request running Lua and the idle
// states that hold much; then, if the heap is still over the limit, every
// idle state. If even that frees too little, the memory is not Lua's: the
// fence then waits for the heap to grow further before it acts again.
func (f *memFence) trip(heap int64) {
	stopped := f.stopAll()
	discarded := f.sweep(func(fp luabridge.Footprint) bool {
		return !fp.Complete || fp.Bytes >= max(f.limit/16, minHoard)
	})
	f.waitStopped()
	debug.FreeOSMemory()
	after := f.read()
	if after > f.limit {
		discarded += f.sweep(func(luabridge.Footprint) bool { return true })
		debug.FreeOSMemory()
		after = f.read()
	}
	f.heap.Store(after)
	f.log.Warn("memory fence: the heap passed the limit; stopped the requests running Lua and discarded the states that held memory",
		"heap", heap, "max_memory", f.limit, "heap_after", after, "requests_stopped", stopped, "states_discarded", discarded)
	if after > f.limit {
		f.trigger.Store(after + max(after/8, minHoard))
		f.log.Error("memory fence: the heap stays over the limit with no Lua state left to blame; the fence waits for it to grow further (raise --max-memory, or look at lsgi.shared's size and the connections)",
			"heap", after, "max_memory", f.limit, "next_trip", f.trigger.Load())
	}
}

// stopAll cancels every request running Lua, and result:close() calls in
// progress, and returns how many requests it stopped. It allocates
// nothing until they are cancelled: near the limit an allocation may
// wait for the garbage collector, while a bomb goes on.
func (f *memFence) stopAll() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for fl := f.flights.next; fl != &f.flights; fl = fl.next {
		if !fl.stopped {
			fl.stopped = true
			fl.dl.end(context.Canceled)
			n++
		}
	}
	f.endEpoch()
	f.epoch, f.endEpoch = context.WithCancel(context.Background())
	return n
}

// waitStopped waits until the stopped requests have left their states, or
// fenceStopWait has passed.
func (f *memFence) waitStopped() {
	deadline := time.Now().Add(fenceStopWait)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		left := true
		for fl := f.flights.next; fl != &f.flights; fl = fl.next {
			if fl.stopped {
				left = false
				break
			}
		}
		f.mu.Unlock()
		if left {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sweep measures the idle states of every app, discards those drop picks,
// logs each, and returns how many it discarded.
func (f *memFence) sweep(drop func(luabridge.Footprint) bool) int {
	n := 0
	for _, pl := range f.reg.mounted() {
		v := pl.current.Load()
		if v == nil || v.pool == nil {
			continue
		}
		for _, fp := range v.pool.Sweep(footprintBudget, drop) {
			n++
			if fp.Bytes >= minHoard || !fp.Complete {
				f.log.Warn("memory fence: discarded an idle Lua state that held memory", "app", pl.name,
					"state_holds", fp.Bytes, "walk_complete", fp.Complete)
			}
		}
	}
	return n
}

// stoppedByFence answers a request the fence stopped: 503, as for any
// overload, or a cut connection when its response had begun.
func (h *Handler) stoppedByFence(resp *response) error {
	if resp.status != 0 {
		return ErrAborted
	}
	resp.plain(http.StatusServiceUnavailable, "503 Service Unavailable\n", "Retry-After", "1")
	return nil
}
