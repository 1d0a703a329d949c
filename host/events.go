package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
)

// EventKind says what happened to an app.
type EventKind string

// The kinds of [Event].
const (
	EventMounted   EventKind = "mounted"   // a new app loaded (or failed to: see Err)
	EventReloaded  EventKind = "reloaded"  // a new version of the app serves
	EventFailed    EventKind = "failed"    // a new version failed to load; the previous one, if any, serves
	EventRestored  EventKind = "restored"  // the files went back to the version that serves: the failure is over
	EventAssets    EventKind = "assets"    // a template or static file changed; the Lua code did not, so no reload
	EventUnmounted EventKind = "unmounted" // the app went away
)

// Event is a change to the apps a [Handler] serves, as
// [Handler.Subscribe] reports it.
type Event struct {
	Kind    EventKind
	App     string // the app's name: "hello", "index" for the root app
	Mount   string // its mount: "/hello", "/" for the root app
	Version int    // the version that serves after the event, 0 if none
	Err     error  // for EventFailed, and EventMounted of an app that failed
}

// subscriberBuffer is how many events a subscriber may fall behind before
// it misses some.
const subscriberBuffer = 16

// broadcaster hands the registry's events to every subscriber, and counts
// each app's generation: the number of events about it, which a page
// records to learn that it went stale while it could not listen.
//
// It is safe for concurrent use. A subscriber that falls more than
// subscriberBuffer events behind misses the newer ones; publishing never
// blocks.
type broadcaster struct {
	boot string // random per handler: generations of another run never match

	mu     sync.Mutex
	subs   map[chan Event]struct{}
	gens   map[string]uint64 // by app name; "" counts every event
	closed bool
}

func newBroadcaster() *broadcaster {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &broadcaster{boot: hex.EncodeToString(b[:]), subs: map[chan Event]struct{}{}, gens: map[string]uint64{}}
}

// publish sends ev to every subscriber that has room for it.
func (b *broadcaster) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gens[ev.App]++
	b.gens[""]++
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// generation returns app's generation ("" for every app's), as a string
// that no other run of the program gives.
func (b *broadcaster) generation(app string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.boot + "-" + strconv.FormatUint(b.gens[app], 10)
}

// subscribe returns a channel of the events from now on, closed when ctx
// ends or the broadcaster closes.
func (b *broadcaster) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, subscriberBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	})
	return ch
}

// subscribers counts the open subscriptions.
func (b *broadcaster) subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// close ends every subscription, and any made later.
func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

// Subscribe returns the changes to the handler's apps from now on: loads,
// reloads, failures, recoveries, asset edits, unmounts. The channel is
// closed when ctx ends or the handler shuts down, or by
// [Handler.CloseStreams]. A subscriber that falls 16 events behind misses
// newer ones: read promptly. lsgi serve --dev feeds the browser refresh
// from it.
func (h *Handler) Subscribe(ctx context.Context) <-chan Event {
	return h.reg.events.subscribe(ctx)
}

// CloseStreams ends every subscription and every event stream the handler
// serves under Config.Dev (the browser refresh), which never end by
// themselves: call it when the server begins to shut down
// (http.Server.RegisterOnShutdown), or http.Server.Shutdown waits for
// them until its context ends. Later subscriptions are closed at once.
// Shutdown calls it too.
func (h *Handler) CloseStreams() { h.reg.events.close() }
