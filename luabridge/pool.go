package luabridge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by [Pool.Get] when every state stayed busy for the
// whole wait: the host answers 503 with Retry-After.
var ErrBusy = errors.New("luabridge: all Lua states of the app are busy")

// ErrClosed is returned by [Pool.Get] after [Pool.Close].
var ErrClosed = errors.New("luabridge: pool closed")

// ErrNotLoaded is returned, wrapped with the cause, by [Pool.Get] on a lazy
// pool whose first state failed to open: the app's main chunk raised or
// returned no app, so this version of it never serves. [Pool.LoadErr]
// returns the cause.
var ErrNotLoaded = errors.New("luabridge: the app failed to load")

// Pool is a bounded set of Lua states for one [Program]. States are created
// on demand up to the pool's size and reused; a state that was interrupted
// mid-call is discarded and replaced later. A Pool is safe for concurrent
// use.
//
// # Lifecycle
//
//  1. [NewPool] creates the first state, so a broken app is reported before
//     it serves anything. A lazy pool ([PoolOptions].Lazy) opens none: its
//     first [Pool.Get] does, and if that fails the pool refuses every Get
//     with [ErrNotLoaded].
//  2. [Pool.Get] and [Pool.Put] lend states to requests. With an
//     IdleTimeout, states that no request needed for that long are closed,
//     down to IdleKeep.
//  3. [Pool.Close] retires the pool: idle states are closed at once and
//     states still lent out are closed when they come back, so requests in
//     flight finish on the version they started on.
type Pool struct {
	prog  *Program
	opts  PoolOptions
	slots chan struct{} // one token per state that may exist; capacity = size

	// first is held while a lazy pool opens its first state, so that a
	// burst of first requests runs the main chunk once, not once each.
	first sync.Mutex

	mu      sync.Mutex
	idle    []*State // the most recently used last
	closed  bool
	loaded  bool        // a state has opened: the main chunk ran
	loadErr error       // a lazy pool's first state failed to open
	lowIdle int         // fewest idle states since the last idle check
	reaper  *time.Timer // armed while more states are open than IdleKeep
	armed   bool

	live atomic.Int64 // Lua states currently open

	observeWait func(time.Duration) // see ObserveWaits
}

// PoolOptions configure a [Pool].
type PoolOptions struct {
	// Size bounds the states of the pool, hence the requests it serves at
	// once; less than 1 means 1.
	Size int

	// Lazy opens no state when the pool is made: the first [Pool.Get]
	// runs the main chunk. A host with thousands of apps saves the memory
	// and start-up time of a state for each (docs/PERFORMANCE.md, "10,000
	// plugins"); the price is that a main chunk that raises is found at
	// the first request, not at load.
	Lazy bool

	// Check, with Lazy, still runs the main chunk once when the pool is
	// made, in a state closed right after: the app is validated now but
	// keeps no state until its first request.
	Check bool

	// IdleTimeout, if positive, closes states that no request needed for
	// a whole IdleTimeout (between one and two of them pass before one
	// closes), down to IdleKeep states, so that an app's pool shrinks back
	// after a burst.
	IdleTimeout time.Duration

	// IdleKeep is how many states IdleTimeout leaves open. With 0, an app
	// nobody asks for keeps no state at all, and its next request opens
	// one, running the main chunk again.
	IdleKeep int

	// OnLoad, if set, is called once when a lazy pool's first state has
	// opened (err nil) or failed to (err the cause, as [NewPool] would have
	// returned it), with the time it took. It is not called for a failure
	// caused by the end of the requesting context.
	OnLoad func(err error, took time.Duration)
}

// ObserveWaits makes [Pool.Get] call f with the time it waited, each time
// it found every state busy and had to wait (whether one came free or
// not); a Get that finds a state at once calls nothing, so the common
// case costs nothing. Call it before the pool is shared.
func (p *Pool) ObserveWaits(f func(waited time.Duration)) { p.observeWait = f }

// NewPool creates a pool of at most size states for prog (size < 1 means 1)
// and opens its first state, returning the error that would stop the app
// from serving: a runtime error in the main chunk, or no app returned.
func NewPool(ctx context.Context, prog *Program, size int) (*Pool, error) {
	return NewPoolWith(ctx, prog, PoolOptions{Size: size})
}

// NewPoolWith creates a pool for prog with opts. Unless opts.Lazy is set,
// it opens the first state as [NewPool] does; with Lazy and Check it runs
// the main chunk in a state it closes again.
func NewPoolWith(ctx context.Context, prog *Program, opts PoolOptions) (*Pool, error) {
	opts.Size = max(opts.Size, 1)
	p := &Pool{prog: prog, opts: opts, slots: make(chan struct{}, opts.Size)}
	if opts.Lazy && !opts.Check {
		return p, nil
	}
	s, err := prog.newState(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Lazy {
		s.close()
		return p, nil
	}
	p.loaded = true
	p.idle = append(p.idle, s)
	p.opened()
	return p, nil
}

// Live returns the number of Lua states the pool has open now.
func (p *Pool) Live() int { return int(p.live.Load()) }

// LoadErr returns why a lazy pool's first state failed to open, or nil.
// Such a pool refuses every [Pool.Get].
func (p *Pool) LoadErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loadErr
}

func (p *Pool) open(ctx context.Context) (*State, error) {
	s, err := p.prog.newState(ctx)
	if err != nil {
		return nil, err
	}
	p.opened()
	return s, nil
}

// opened counts a new state, and starts the idle check when the pool has
// more states than it keeps.
func (p *Pool) opened() {
	if p.live.Add(1) > int64(p.opts.IdleKeep) && p.opts.IdleTimeout > 0 {
		p.armReaper()
	}
}

func (p *Pool) discard(s *State) {
	s.close()
	p.live.Add(-1)
}

// Get lends out a state, waiting at most wait for one to be free. It returns
// [ErrBusy] when the wait runs out, ctx's error when ctx ends first,
// [ErrClosed] once the pool is closed, and [ErrNotLoaded] when a lazy pool's
// app failed to load.
func (p *Pool) Get(ctx context.Context, wait time.Duration) (*State, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		if err := p.waitSlot(ctx, wait); err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	if p.closed || p.loadErr != nil {
		err := p.refusal()
		p.mu.Unlock()
		<-p.slots
		return nil, err
	}
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle[n-1] = nil // the array must not keep a state the pool may close
		p.idle = p.idle[:n-1]
		p.lowIdle = min(p.lowIdle, n-1)
		p.mu.Unlock()
		return s, nil
	}
	p.lowIdle = 0
	loaded := p.loaded
	p.mu.Unlock()
	var s *State
	var err error
	if loaded {
		s, err = p.open(ctx)
	} else {
		s, err = p.openFirst(ctx)
	}
	if err != nil {
		<-p.slots
		if errors.Is(err, ErrNotLoaded) || errors.Is(err, ErrClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("luabridge: open a new state for %s: %w", p.prog.name, err)
	}
	return s, nil
}

// refusal is the error of a Get on a closed or failed pool. p.mu must be
// held.
func (p *Pool) refusal() error {
	if p.closed {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrNotLoaded, p.loadErr)
}

// openFirst opens a lazy pool's first state, which runs the app's main
// chunk for the first time: its failure is the app's load error, kept for
// every later Get, unless the request's own context ended.
func (p *Pool) openFirst(ctx context.Context) (*State, error) {
	p.first.Lock()
	defer p.first.Unlock()
	p.mu.Lock()
	switch {
	case p.closed || p.loadErr != nil:
		err := p.refusal()
		p.mu.Unlock()
		return nil, err
	case p.loaded:
		// Another request opened the first state while this one waited.
		p.mu.Unlock()
		return p.open(ctx)
	}
	p.mu.Unlock()
	start := time.Now()
	s, err := p.open(ctx)
	if err != nil && ctx.Err() != nil {
		return nil, err // the request ended, not necessarily the app
	}
	p.mu.Lock()
	if err != nil {
		p.loadErr = err
	} else {
		p.loaded = true
	}
	p.mu.Unlock()
	if p.opts.OnLoad != nil {
		p.opts.OnLoad(err, time.Since(start))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotLoaded, err)
	}
	return s, nil
}

// waitSlot blocks until a slot frees up; it is the slow path of Get, kept
// apart so that the common case allocates no timer.
func (p *Pool) waitSlot(ctx context.Context, wait time.Duration) error {
	if p.observeWait != nil {
		defer func(begin time.Time) { p.observeWait(time.Since(begin)) }(time.Now())
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Put gives back a state lent by [Pool.Get]. A state left broken by an
// interrupted call, one that has served its ProgramOptions.StateMaxRequests,
// or one returned after [Pool.Close], is closed instead; a new state takes
// its place on demand.
func (p *Pool) Put(s *State) {
	p.mu.Lock()
	if s.broken || p.closed || s.spent() {
		p.mu.Unlock()
		p.discard(s)
	} else {
		p.idle = append(p.idle, s)
		p.mu.Unlock()
	}
	<-p.slots
}

// Close retires the pool. Idle states are closed now; states lent out are
// closed by [Pool.Put]. Close is idempotent.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	if p.reaper != nil {
		p.reaper.Stop()
	}
	p.mu.Unlock()
	for _, s := range idle {
		p.discard(s)
	}
}

// armReaper starts the idle check unless it runs already.
func (p *Pool) armReaper() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.armed || p.closed {
		return
	}
	p.armed = true
	p.lowIdle = len(p.idle)
	if p.reaper == nil {
		p.reaper = time.AfterFunc(p.opts.IdleTimeout, p.shrink)
	} else {
		p.reaper.Reset(p.opts.IdleTimeout)
	}
}

// shrink is the idle check, every IdleTimeout while more than IdleKeep
// states are open: the states that stayed idle through the whole interval
// (as many as the fewest idle at any moment of it) were not needed, and
// close, the least recently used first, down to IdleKeep open states.
func (p *Pool) shrink() {
	p.mu.Lock()
	if p.closed {
		p.armed = false
		p.mu.Unlock()
		return
	}
	live := int(p.live.Load())
	n := max(0, min(p.lowIdle, len(p.idle), live-p.opts.IdleKeep))
	var spare []*State
	if n > 0 {
		spare = append(spare, p.idle[:n]...)
		kept := copy(p.idle, p.idle[n:])
		clear(p.idle[kept:])
		p.idle = p.idle[:kept]
	}
	p.lowIdle = len(p.idle)
	p.armed = live-n > p.opts.IdleKeep
	if p.armed {
		p.reaper.Reset(p.opts.IdleTimeout)
	}
	p.mu.Unlock()
	for _, s := range spare {
		p.discard(s)
	}
}

// stateMaxRequests draws the number of requests a new state may serve:
// StateMaxRequests plus a random jitter of 0 to StateMaxRequestsJitter, as
// gunicorn does for its workers. Zero means no limit.
func (p *Program) stateMaxRequests() int {
	n := p.opts.StateMaxRequests
	if n <= 0 {
		return 0
	}
	if j := p.opts.StateMaxRequestsJitter; j > 0 {
		n += rand.IntN(j + 1)
	}
	return n
}
