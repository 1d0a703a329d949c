// Package coalesce sends a response body from a goroutine of its own while
// the application produces the next piece, as PEP 3333 allows a server to
// "continue transmission while the application produces the next block":
// pieces that pile up while a write is in flight go out together, in one
// write, and no piece waits for application code.
//
// A [Sender] sits between the goroutine running the app (the producer) and
// the connection. The producer calls [Sender.Write]; a flushed piece wakes
// the sender, which takes everything pending and passes it to the send
// function in one call. When the connection is slower than the app, the
// pending bytes grow to the Sender's limit and Write waits for the sender:
// the producer is held back by the client, as with a blocking write.
package coalesce

import "sync"

// Sender sends what a producer writes, from its own goroutine.
//
// # Lifecycle
//
//  1. [Start] starts the goroutine with the function that sends a batch.
//  2. The producer calls [Sender.Write] for each piece, from one goroutine.
//  3. [Sender.Close] sends what is left and ends the goroutine; the send
//     function is not called after it returns.
type Sender struct {
	send  func(p []byte) error
	limit int

	mu       sync.Mutex
	wake     sync.Cond // the sender waits on it for work or the end
	drained  sync.Cond // the producer waits on it for room
	pending  []byte
	spare    []byte // the buffer the sender hands back
	ready    bool   // something flushed is pending
	sending  bool   // a batch is being sent
	closed   bool
	err      error // the first error of send
	finished chan struct{}
}

// Start returns a Sender that passes batches to send, which writes a batch
// and flushes it to the client; an error from send ends the sending, and
// every later Write returns it. limit bounds the bytes kept pending.
func Start(send func(p []byte) error, limit int) *Sender {
	s := &Sender{send: send, limit: limit, finished: make(chan struct{})}
	s.pending, s.spare = getBuffer(), getBuffer()
	s.wake.L = &s.mu
	s.drained.L = &s.mu
	go s.run()
	return s
}

// Write adds p to what is pending. With flush, p must not wait for the
// producer's next Write: the sender is woken to send it. Without, p may
// wait for the next flush or for Close. Write returns the error that ended
// the sending, if any.
func (s *Sender) Write(p string, flush bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.err == nil && len(s.pending) >= s.limit {
		s.ready = true
		s.wake.Signal()
		s.drained.Wait()
	}
	if s.err != nil {
		return s.err
	}
	s.pending = append(s.pending, p...)
	if flush && !s.ready {
		s.ready = true
		s.wake.Signal()
	}
	return nil
}

// Sync waits until everything written so far has been sent.
func (s *Sender) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 {
		s.ready = true
		s.wake.Signal()
	}
	for s.err == nil && (len(s.pending) > 0 || s.sending) {
		s.drained.Wait()
	}
	return s.err
}

// Close sends what is pending, stops the goroutine and returns the error
// that ended the sending, if any.
func (s *Sender) Close() error {
	s.mu.Lock()
	s.closed = true
	s.wake.Signal()
	s.mu.Unlock()
	<-s.finished
	putBuffer(s.pending)
	putBuffer(s.spare)
	s.pending, s.spare = nil, nil
	return s.err
}

// buffers keeps the senders' buffers: a streamed response would otherwise
// grow two from nothing.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// bufferSize is the capacity a new buffer starts with, and the most a
// returned one may have.
const bufferSize = 16 << 10

func getBuffer() []byte {
	b := *buffers.Get().(*[]byte)
	if b == nil {
		b = make([]byte, 0, bufferSize)
	}
	return b[:0]
}

func putBuffer(b []byte) {
	if b != nil && cap(b) <= 4*bufferSize {
		buffers.Put(&b)
	}
}

func (s *Sender) run() {
	defer close(s.finished)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for !s.ready && !s.closed {
			s.wake.Wait()
		}
		if len(s.pending) == 0 || s.err != nil {
			if s.closed {
				return
			}
			s.ready = false
			continue
		}
		batch := s.pending
		s.pending, s.spare = s.spare[:0], nil
		s.ready, s.sending = false, true
		s.drained.Broadcast()
		s.mu.Unlock()
		err := s.send(batch)
		s.mu.Lock()
		s.sending = false
		if err != nil && s.err == nil {
			s.err = err
		}
		s.spare = batch[:0]
		s.drained.Broadcast()
		if s.closed && len(s.pending) == 0 {
			return
		}
		if s.closed {
			s.ready = true
		}
	}
}
