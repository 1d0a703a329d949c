package luabridge

// This file is the deadline of a State's requests. gopher-lua stops a
// running call only through the context set with LState.SetContext, which it
// checks at every VM instruction. A context.WithTimeout per request costs a
// timer, a channel and four allocations, and its Done takes an atomic load
// and a type assertion at each of those checks. A State instead keeps one
// context for all its requests, whose channel and timer are made once and
// re-armed per request: a request that ends in time leaves both as they
// were for the next.

import (
	"context"
	"sync"
	"time"
)

// stateContext is the context Lua code of one State runs under, request
// after request. Between two requests nothing runs on the state, which is
// when the host re-arms it; during one it behaves as the request's
// context: its deadline, the values and the cancellation of the context
// the host served the request with.
type stateContext struct {
	// done is closed when the running request is interrupted. It is
	// replaced, between requests, only after it was closed: Done is read
	// at every VM instruction, so it takes no lock.
	done chan struct{}

	timer *time.Timer // fires expire at the deadline; made once

	mu       sync.Mutex
	gen      uint64          // counts requests, so that a late callback knows its own
	err      error           // why done was closed; nil while open
	deadline time.Time       // the running request's; zero when none
	parent   context.Context // the request's context, for Value and its cancellation
	// stopParent ends the watch on parent's cancellation, if any.
	stopParent func() bool
	// after are the functions registered by AfterFunc during the running
	// request (mostly the child contexts of coroutines): they run when the
	// request is interrupted, and when it ends, as a child of a context
	// cancelled at the end of its request would.
	after map[*afterFunc]struct{}
}

type afterFunc struct{ f func() }

func newStateContext() *stateContext {
	c := &stateContext{done: make(chan struct{}), parent: context.Background()}
	c.timer = time.AfterFunc(time.Hour, c.expire)
	c.timer.Stop()
	return c
}

// begin arms the context for a request served under parent, ending at
// deadline (none when zero). It runs while nothing runs on the state.
func (c *stateContext) begin(parent context.Context, deadline time.Time) {
	c.mu.Lock()
	if c.err != nil {
		// The previous request was interrupted, or its deadline fired
		// just as it ended.
		c.done, c.err = make(chan struct{}), nil
	}
	c.parent, c.deadline = parent, deadline
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	if !deadline.IsZero() {
		c.timer.Reset(time.Until(deadline))
	}
	if parent.Done() != nil {
		// The callback may start just as the request ends, and run once
		// the next has begun: it names its request.
		c.stopParent = context.AfterFunc(parent, func() { c.parentDone(gen, parent) })
	}
}

// end disarms the context once the request is over and cancels what the
// request registered with AfterFunc.
func (c *stateContext) end() {
	c.timer.Stop()
	if c.stopParent != nil {
		c.stopParent()
		c.stopParent = nil
	}
	c.mu.Lock()
	after := c.after
	c.after = nil
	if len(after) > 0 && c.err == nil {
		// The children see their parent cancelled, as with a context
		// cancelled at the end of its request; begin makes a new channel.
		c.err = context.Canceled
		close(c.done)
	}
	c.parent = context.Background()
	c.mu.Unlock()
	for a := range after {
		a.f()
	}
}

// expire interrupts the running request at its deadline.
func (c *stateContext) expire() { c.interrupt(context.DeadlineExceeded) }

// parentDone interrupts request gen when the host's context for it ends
// (the client went away), unless that request is over.
func (c *stateContext) parentDone(gen uint64, parent context.Context) {
	c.mu.Lock()
	var after map[*afterFunc]struct{}
	if c.gen == gen && c.parent == parent {
		after = c.interruptLocked(parent.Err())
	}
	c.mu.Unlock()
	for a := range after {
		a.f()
	}
}

func (c *stateContext) interrupt(err error) {
	c.mu.Lock()
	after := c.interruptLocked(err)
	c.mu.Unlock()
	for a := range after {
		a.f()
	}
}

// interruptLocked closes done with err, unless it is closed, and returns
// the functions to run (outside the lock).
func (c *stateContext) interruptLocked(err error) map[*afterFunc]struct{} {
	if c.err != nil {
		return nil
	}
	if err == nil {
		err = context.Canceled
	}
	c.err = err
	close(c.done)
	after := c.after
	c.after = nil
	return after
}

// Deadline implements [context.Context].
func (c *stateContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, !c.deadline.IsZero()
}

// Done implements [context.Context].
func (c *stateContext) Done() <-chan struct{} { return c.done }

// Err implements [context.Context].
func (c *stateContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value implements [context.Context]: the request's values.
func (c *stateContext) Value(key any) any {
	c.mu.Lock()
	parent := c.parent
	c.mu.Unlock()
	return parent.Value(key)
}

// AfterFunc arranges for f to run once the running request is
// interrupted. It is what package context uses, instead of a goroutine, to
// tie a child context (gopher-lua makes one for each coroutine, and
// context.AfterFunc one for its callback) to this one; those functions only
// cancel the child, so they run in the goroutine that interrupts. A
// function still registered when the request ends runs then, so that no
// child outlives its request.
func (c *stateContext) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	if c.after == nil {
		c.after = make(map[*afterFunc]struct{})
	}
	c.after[a] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.after[a]
		delete(c.after, a)
		return ok
	}
}
