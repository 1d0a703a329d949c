package host

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRequestDeadline(t *testing.T) {
	tests := []struct {
		desc    string
		timeout time.Duration
		max     time.Duration
		extend  time.Duration // moved at once; 0 for not at all
		cancel  bool          // the parent ends (the client left) first
		wantErr error
		atLeast time.Duration // the context ends no sooner
	}{
		{"expires", 30 * time.Millisecond, time.Second, 0, false, context.DeadlineExceeded, 30 * time.Millisecond},
		{"moved", 30 * time.Millisecond, time.Second, 150 * time.Millisecond, false, context.DeadlineExceeded, 150 * time.Millisecond},
		{"moved only up to the maximum", 30 * time.Millisecond, 80 * time.Millisecond, 10 * time.Second, false, context.DeadlineExceeded, 80 * time.Millisecond},
		{"never moved earlier", 120 * time.Millisecond, time.Second, time.Millisecond, false, context.DeadlineExceeded, 120 * time.Millisecond},
		{"the client leaves", time.Minute, time.Minute, 0, true, context.Canceled, 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			d := newRequestDeadline(parent, start, tc.timeout, tc.max)
			defer d.release()
			if d.Value(struct{ k int }{1}) != nil {
				t.Error("a value the parent does not have")
			}
			if tc.extend > 0 {
				d.Extend(tc.extend)
			}
			// A coroutine's context, as gopher-lua makes one.
			child, stop := context.WithCancel(d)
			defer stop()
			if tc.cancel {
				cancel()
			}
			select {
			case <-child.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the context never ended")
			}
			if took := time.Since(start); took < tc.atLeast {
				t.Errorf("ended after %v, want at least %v", took, tc.atLeast)
			}
			if !errors.Is(d.Err(), tc.wantErr) || !errors.Is(child.Err(), tc.wantErr) {
				t.Errorf("Err() = %v, the child's %v; want %v", d.Err(), child.Err(), tc.wantErr)
			}
		})
	}
}

func TestRequestDeadlineAfterFunc(t *testing.T) {
	d := newRequestDeadline(context.Background(), time.Now(), time.Minute, time.Minute)
	ran := make(chan string, 2)
	stop := d.AfterFunc(func() { ran <- "kept" })
	stopped := d.AfterFunc(func() { ran <- "stopped" })
	if !stopped() {
		t.Error("stopping a pending AfterFunc reported false")
	}
	d.release()
	if got := <-ran; got != "kept" {
		t.Errorf("ran %q", got)
	}
	if stop() {
		t.Error("stopping an AfterFunc that ran reported true")
	}
	late := make(chan struct{})
	d.AfterFunc(func() { close(late) })
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Error("an AfterFunc registered after the end never ran")
	}
	if len(ran) != 0 {
		t.Errorf("a stopped AfterFunc ran: %q", <-ran)
	}
}

// TestRequestDeadlineReuse checks a deadline serving request after
// request, as the pooled exchange's does.
func TestRequestDeadlineReuse(t *testing.T) {
	var d requestDeadline
	arm := func(parent context.Context, timeout time.Duration) {
		d.arm(parent, time.Now(), timeout, timeout)
	}
	tests := []struct {
		desc string
		run  func(t *testing.T)
	}{
		{"a request in time keeps the channel for the next", func(t *testing.T) {
			arm(context.Background(), time.Minute)
			done := d.Done()
			d.release()
			arm(context.Background(), time.Minute)
			if d.Done() != done || d.Err() != nil {
				t.Error("a new channel, or an error, after a request in time")
			}
			d.release()
		}},
		{"a child still attached ends with its request", func(t *testing.T) {
			arm(context.Background(), time.Minute)
			child, cancel := context.WithCancel(&d)
			defer cancel()
			d.release()
			select {
			case <-child.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the child outlived its request")
			}
			arm(context.Background(), time.Minute)
			if d.Err() != nil {
				t.Errorf("the next request starts ended: %v", d.Err())
			}
			d.release()
		}},
		{"a request past its deadline leaves the next one whole", func(t *testing.T) {
			arm(context.Background(), 10*time.Millisecond)
			<-d.Done()
			d.release()
			arm(context.Background(), time.Minute)
			select {
			case <-d.Done():
				t.Error("the next request's context is done")
			default:
			}
			d.release()
		}},
		{"a client that leaves as its request ends does not reach the next", func(t *testing.T) {
			first, cancel := context.WithCancel(context.Background())
			arm(first, time.Minute)
			gen := d.gen
			d.release()
			arm(context.Background(), time.Minute)
			cancel()
			d.parentDone(gen, first) // as the callback that started before release
			if err := d.Err(); err != nil {
				t.Errorf("the next request's context: Err = %v, want nil", err)
			}
			d.release()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, tt.run)
	}
}
