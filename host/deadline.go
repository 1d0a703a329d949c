package host

import (
	"context"
	"sync"
	"time"

	"github.com/lsgi/lsgi/luabridge/lualib"
)

// requestDeadline is the context an app runs under: its parent's values
// and cancellation (the client going away), and a deadline the app may
// move later with lsgi.extend_deadline, never past a maximum (Config.Timeout
// and Config.MaxStreamTime). A context from context.WithTimeout cannot move
// its deadline, hence this one.
//
// Done is a plain field read: gopher-lua looks at it before every
// instruction. Children (a coroutine's context) attach through AfterFunc,
// so that none of them needs a goroutine of its own.
//
// A requestDeadline lives in the host's pooled exchange and serves request
// after request (arm, then release): its channel and its timer are made
// once, and a request that ends in time leaves them as they were for the
// next, so that a request costs no allocation for its deadline. A request
// that ends by its deadline, by its client leaving or with children still
// attached closes the channel (children and context.AfterFunc callers see
// it end, as they would a context cancelled at the end of its request);
// the next request then gets a new one.
type requestDeadline struct {
	parent context.Context
	done   chan struct{}
	max    time.Time

	// resp, once the app runs, hears of a moved deadline, so that the
	// transport's reads and writes may go on as long.
	resp      *response
	readsBody bool

	mu       sync.Mutex
	gen      uint64 // counts requests: a callback of an earlier one does nothing
	deadline time.Time
	err      error
	timer    *time.Timer
	after    map[*func()]struct{} // AfterFunc callbacks not yet run
	unhook   func() bool          // stops watching parent; nil when parent cannot end
}

// newRequestDeadline returns a context that ends at start+timeout unless
// the app moves its deadline, never later than start+maxTime.
func newRequestDeadline(parent context.Context, start time.Time, timeout, maxTime time.Duration) *requestDeadline {
	d := new(requestDeadline)
	d.arm(parent, start, timeout, maxTime)
	return d
}

// arm makes d the context of a new request, as newRequestDeadline
// describes; d was just made or released.
func (d *requestDeadline) arm(parent context.Context, start time.Time, timeout, maxTime time.Duration) {
	d.mu.Lock()
	if d.done == nil || d.err != nil {
		d.done, d.err = make(chan struct{}), nil
	}
	d.parent, d.resp, d.readsBody = parent, nil, false
	d.deadline = start.Add(timeout)
	d.max = start.Add(max(timeout, maxTime))
	if pd, ok := parent.Deadline(); ok && pd.Before(d.max) {
		d.max = pd // a deadline the transport set is a bound too
		if pd.Before(d.deadline) {
			d.deadline = pd
		}
	}
	d.gen++
	gen := d.gen
	d.mu.Unlock()
	if d.timer == nil {
		d.timer = time.AfterFunc(time.Until(d.deadline), d.expire)
	} else {
		d.timer.Reset(time.Until(d.deadline))
	}
	d.unhook = nil
	if parent.Done() != nil {
		// The callback may start as the request ends and run once the
		// next has begun: it names its request.
		d.unhook = context.AfterFunc(parent, func() { d.parentDone(gen, parent) })
	}
}

// Deadline implements context.Context: the deadline now in force.
func (d *requestDeadline) Deadline() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.deadline, true
}

// Done implements context.Context.
func (d *requestDeadline) Done() <-chan struct{} { return d.done }

// Err implements context.Context: context.DeadlineExceeded past the
// deadline, the parent's error when the client went away.
func (d *requestDeadline) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Value implements context.Context: the parent's values, and the deadline
// itself for the toolkit (lualib.DeadlineKey).
func (d *requestDeadline) Value(key any) any {
	if key == (lualib.DeadlineKey{}) {
		return d
	}
	d.mu.Lock()
	parent := d.parent
	d.mu.Unlock()
	return parent.Value(key)
}

// AfterFunc arranges for f to run when d ends, as context.AfterFunc does;
// context.WithCancel uses it to tie a child to d without a goroutine.
func (d *requestDeadline) AfterFunc(f func()) (stop func() bool) {
	d.mu.Lock()
	if d.err != nil {
		d.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	if d.after == nil {
		d.after = map[*func()]struct{}{}
	}
	key := &f
	d.after[key] = struct{}{}
	d.mu.Unlock()
	return func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.after[key]
		delete(d.after, key)
		return ok
	}
}

// Extend implements lualib.Deadline: the deadline moves to by from now,
// never earlier than it is and never past the maximum. It returns the
// deadline in force.
func (d *requestDeadline) Extend(by time.Duration) time.Time {
	d.mu.Lock()
	if d.err != nil {
		defer d.mu.Unlock()
		return d.deadline
	}
	now := time.Now()
	next := now.Add(by)
	if next.After(d.max) || by < 0 {
		next = d.max
	}
	if !next.After(d.deadline) {
		defer d.mu.Unlock()
		return d.deadline
	}
	d.deadline = next
	d.timer.Reset(next.Sub(now))
	d.mu.Unlock()
	if d.resp != nil {
		d.resp.begin(next, d.readsBody) // on the request's goroutine, as lsgi.extend_deadline runs
	}
	return next
}

// expire ends d at its deadline, unless the deadline moved meanwhile (the
// timer fired just as Extend or arm reset it).
func (d *requestDeadline) expire() {
	d.mu.Lock()
	var after map[*func()]struct{}
	if !time.Now().Before(d.deadline) {
		after = d.endLocked(context.DeadlineExceeded)
	}
	d.mu.Unlock()
	runAfter(after)
}

// parentDone ends request gen when its parent ended (the client left),
// unless that request is over.
func (d *requestDeadline) parentDone(gen uint64, parent context.Context) {
	d.mu.Lock()
	var after map[*func()]struct{}
	if d.gen == gen && d.parent == parent {
		after = d.endLocked(parent.Err())
	}
	d.mu.Unlock()
	runAfter(after)
}

// end ends d with err, once, and runs the AfterFunc callbacks.
func (d *requestDeadline) end(err error) {
	d.mu.Lock()
	after := d.endLocked(err)
	d.mu.Unlock()
	runAfter(after)
}

// endLocked closes done with err, unless it is closed, and returns the
// callbacks to run once the lock is released.
func (d *requestDeadline) endLocked(err error) map[*func()]struct{} {
	if d.err != nil {
		return nil
	}
	if err == nil {
		err = context.Canceled
	}
	d.err = err
	close(d.done)
	after := d.after
	d.after = nil
	return after
}

func runAfter(after map[*func()]struct{}) {
	for f := range after {
		(*f)()
	}
}

// release ends the request: it stops d's timer and its watch on the
// parent, and ends d if anything is still attached to it (a coroutine's
// context), so that no child outlives its request. Otherwise d stays open,
// for the next request.
func (d *requestDeadline) release() {
	d.timer.Stop()
	if d.unhook != nil {
		d.unhook()
		d.unhook = nil
	}
	d.mu.Lock()
	var after map[*func()]struct{}
	if len(d.after) > 0 {
		after = d.endLocked(context.Canceled)
	}
	d.parent, d.resp = context.Background(), nil
	d.mu.Unlock()
	runAfter(after)
}
