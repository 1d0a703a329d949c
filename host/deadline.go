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
type requestDeadline struct {
	parent context.Context
	done   chan struct{}
	max    time.Time

	// resp, once the app runs, hears of a moved deadline, so that the
	// transport's reads and writes may go on as long.
	resp      *response
	readsBody bool

	mu       sync.Mutex
	deadline time.Time
	err      error
	timer    *time.Timer
	after    map[*func()]struct{} // AfterFunc callbacks not yet run
	unhook   func() bool          // stops watching parent
}

// newRequestDeadline returns a context that ends at start+timeout unless
// the app moves its deadline, never later than start+maxTime.
func newRequestDeadline(parent context.Context, start time.Time, timeout, maxTime time.Duration) *requestDeadline {
	d := &requestDeadline{
		parent:   parent,
		done:     make(chan struct{}),
		deadline: start.Add(timeout),
		max:      start.Add(max(timeout, maxTime)),
	}
	if pd, ok := parent.Deadline(); ok && pd.Before(d.max) {
		d.max = pd // a deadline the transport set is a bound too
		if pd.Before(d.deadline) {
			d.deadline = pd
		}
	}
	d.timer = time.AfterFunc(time.Until(d.deadline), d.expire)
	d.unhook = context.AfterFunc(parent, func() { d.end(parent.Err()) })
	return d
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
	return d.parent.Value(key)
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
// timer fired just as Extend reset it).
func (d *requestDeadline) expire() {
	d.mu.Lock()
	moved := time.Now().Before(d.deadline)
	d.mu.Unlock()
	if !moved {
		d.end(context.DeadlineExceeded)
	}
}

// end ends d with err, once, and runs the AfterFunc callbacks.
func (d *requestDeadline) end(err error) {
	d.mu.Lock()
	if d.err != nil {
		d.mu.Unlock()
		return
	}
	d.err = err
	close(d.done)
	after := d.after
	d.after = nil
	d.mu.Unlock()
	for f := range after {
		(*f)()
	}
}

// release ends d, if it has not ended, and stops its timer and its watch
// on the parent: the request is over.
func (d *requestDeadline) release() {
	d.timer.Stop()
	d.unhook()
	d.end(context.Canceled)
}
