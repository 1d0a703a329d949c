package transport

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestLimitListener holds two connections open under a cap of two: a
// third client gets the refusal and a closed connection; once one of the
// two closes, a new client is served.
func TestLimitListener(t *testing.T) {
	tests := []struct {
		desc    string
		refusal []byte
	}{
		{"HTTP: a canned 503", HTTPRefusal},
		{"FastCGI: closed at once", nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := LimitListener(inner, 2, tt.refusal, discardLogger())
			defer ln.Close()
			accepted := make(chan net.Conn, 4)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			dial := func() net.Conn {
				t.Helper()
				c, err := net.Dial("tcp", inner.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				return c
			}
			first, second := dial(), dial()
			defer first.Close()
			defer second.Close()
			held := []net.Conn{<-accepted, <-accepted}

			third := dial()
			got, err := io.ReadAll(third)
			third.Close()
			if err != nil || !bytes.Equal(got, tt.refusal) {
				t.Errorf("past the cap: read %q, %v; want %q and the end", got, err, tt.refusal)
			}
			if len(tt.refusal) > 0 {
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
				if err != nil || resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
					t.Errorf("the refusal is not a 503 that closes: %v, %v", resp, err)
				}
			}
			select {
			case c := <-accepted:
				t.Fatalf("a connection past the cap was accepted: %v", c.RemoteAddr())
			default:
			}

			held[0].Close() // frees a place
			fourth := dial()
			defer fourth.Close()
			select {
			case c := <-accepted:
				c.Close()
			case <-time.After(5 * time.Second):
				t.Fatal("no connection accepted after one closed")
			}
			held[1].Close()
		})
	}
}

func TestLimitListenerNoCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	if ln := LimitListener(inner, 0, HTTPRefusal, nil); ln != inner {
		t.Errorf("LimitListener with no cap wraps the listener")
	}
}

func TestDefaultMaxConnections(t *testing.T) {
	if n := DefaultMaxConnections(); n < 16 {
		t.Errorf("DefaultMaxConnections() = %d, want at least 16", n)
	}
}
