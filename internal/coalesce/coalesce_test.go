package coalesce

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a send function that keeps the batches, optionally held up
// by a gate, or failing.
type recorder struct {
	mu      sync.Mutex
	batches []string
	gate    chan struct{} // when set, each send waits for a token
	fail    error
}

func (r *recorder) send(p []byte) error {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, string(p))
	return r.fail
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.batches, "")
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

func TestSender(t *testing.T) {
	tests := []struct {
		desc string
		run  func(t *testing.T)
	}{
		{"everything is sent, in order, by Close", func(t *testing.T) {
			r := &recorder{}
			s := Start(r.send, 1<<10)
			for _, p := range []string{"a", "b", "c", "d"} {
				if err := s.Write(p, p == "b"); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil || r.all() != "abcd" {
				t.Errorf("Close = %v, sent %q", err, r.all())
			}
		}},
		{"a flushed piece goes out without waiting for the producer", func(t *testing.T) {
			r := &recorder{}
			s := Start(r.send, 1<<10)
			defer s.Close()
			s.Write("x", true)
			deadline := time.Now().Add(5 * time.Second)
			for r.count() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the flushed piece was not sent")
				}
				time.Sleep(time.Millisecond)
			}
		}},
		{"pieces written during a send go out together", func(t *testing.T) {
			r := &recorder{gate: make(chan struct{})}
			s := Start(r.send, 1<<10)
			s.Write("1", true)
			for _, p := range []string{"2", "3", "4"} {
				s.Write(p, true)
			}
			close(r.gate)
			s.Close()
			if r.all() != "1234" || r.count() > 2 {
				t.Errorf("batches %q, want the pieces after the first in one", r.batches)
			}
		}},
		{"a full buffer holds the producer back", func(t *testing.T) {
			r := &recorder{gate: make(chan struct{})}
			s := Start(r.send, 4)
			s.Write("1234", true) // taken by the sender, which blocks
			time.Sleep(10 * time.Millisecond)
			s.Write("5678", false) // pending is now full
			wrote := make(chan struct{})
			go func() { s.Write("9", false); close(wrote) }()
			select {
			case <-wrote:
				t.Fatal("Write returned with the buffer full")
			case <-time.After(50 * time.Millisecond):
			}
			close(r.gate)
			<-wrote
			s.Close()
			if r.all() != "123456789" {
				t.Errorf("sent %q", r.all())
			}
		}},
		{"a send error reaches the producer", func(t *testing.T) {
			boom := errors.New("broken pipe")
			r := &recorder{fail: boom}
			s := Start(r.send, 1<<10)
			s.Write("a", true)
			if err := s.Sync(); !errors.Is(err, boom) {
				t.Errorf("Sync = %v", err)
			}
			if err := s.Write("b", true); !errors.Is(err, boom) {
				t.Errorf("Write after the error = %v", err)
			}
			if err := s.Close(); !errors.Is(err, boom) {
				t.Errorf("Close = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, tt.run)
	}
}
