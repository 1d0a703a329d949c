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

// Pool is a bounded set of Lua states for one [Program]. States are created
// on demand up to the pool's size and reused; a state that was interrupted
// mid-call is discarded and replaced later. A Pool is safe for concurrent
// use.
//
// # Lifecycle
//
//  1. [NewPool] creates the first state, so a broken app is reported before
//     it serves anything.
//  2. [Pool.Get] and [Pool.Put] lend states to requests.
//  3. [Pool.Close] retires the pool: idle states are closed at once and
//     states still lent out are closed when they come back, so requests in
//     flight finish on the version they started on.
type Pool struct {
	prog  *Program
	slots chan struct{} // one token per state that may exist; capacity = size

	mu     sync.Mutex
	idle   []*State
	closed bool

	live atomic.Int64 // Lua states currently open

	observeWait func(time.Duration) // see ObserveWaits
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
	if size < 1 {
		size = 1
	}
	p := &Pool{prog: prog, slots: make(chan struct{}, size)}
	s, err := p.open(ctx)
	if err != nil {
		return nil, err
	}
	p.idle = append(p.idle, s)
	return p, nil
}

// Live returns the number of Lua states the pool has open now.
func (p *Pool) Live() int { return int(p.live.Load()) }

func (p *Pool) open(ctx context.Context) (*State, error) {
	s, err := p.prog.newState(ctx)
	if err != nil {
		return nil, err
	}
	p.live.Add(1)
	return s, nil
}

func (p *Pool) discard(s *State) {
	s.close()
	p.live.Add(-1)
}

// Get lends out a state, waiting at most wait for one to be free. It returns
// [ErrBusy] when the wait runs out, ctx's error when ctx ends first, and
// [ErrClosed] once the pool is closed.
func (p *Pool) Get(ctx context.Context, wait time.Duration) (*State, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		if err := p.waitSlot(ctx, wait); err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	s, err := p.open(ctx)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("luabridge: open a new state for %s: %w", p.prog.name, err)
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
	p.mu.Unlock()
	for _, s := range idle {
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
