package host

import (
	"context"
	"io"
	"log/slog"
	"net"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/lsgi/lsgi/environ"
)

// BenchmarkGuards is hello and page through the lower seam with each of
// the host's own guards on or off, for paired runs: the read deadline a
// request gets on arrival (on a real loopback TCP connection), and the
// memory fence's tracking of the requests that run Lua (its watchdog
// samples the heap every 10 ms in the background). The builtins' budgets
// are always on and are part of "bare". Compare the variants as ratios of
// "bare", interleaving runs (docs/PERFORMANCE.md, "The cost of the
// guards").
func BenchmarkGuards(b *testing.B) {
	conn := loopbackConn(b)
	for _, app := range []struct {
		name, path string
		length     int
	}{{"hello", "/hello", 13}, {"page", "/page?name=World", 1013}} {
		for _, v := range []struct {
			name            string
			deadline, fence bool
		}{{"bare", false, false}, {"deadline", true, false}, {"fence", false, true}, {"all", true, true}} {
			b.Run("app="+app.name+"/guard="+v.name, func(b *testing.B) {
				maxMemory := int64(-1)
				if v.fence {
					maxMemory = 0 // the default
				}
				h, err := New(Config{Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}}, MaxMemory: maxMemory,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				defer h.Close()
				target, query, _ := cut(app.path)
				req := &Request{Request: environ.Request{Method: "GET", Target: app.path, Path: target, Query: query, Proto: "HTTP/1.1",
					Host: "example.com", RemoteAddr: "192.0.2.1:1234", Header: benchFields{{"User-Agent", "bench"}, {"Accept", "*/*"}}}}
				var w interface {
					ResponseWriter
					count() int
					reset()
				} = &discardWriter{}
				if v.deadline {
					w = &deadlineWriter{conn: conn}
				}
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					if err := h.ServeRequest(context.Background(), w, req); err != nil || w.count() != app.length {
						b.Fatalf("ServeRequest = %v with %d bytes", err, w.count())
					}
				}
			})
		}
	}
}

func cut(target string) (path, query string, ok bool) {
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			return target[:i], target[i+1:], true
		}
	}
	return target, "", false
}

func (w *discardWriter) count() int { return w.n }
func (w *discardWriter) reset()     { w.n = 0 }

// deadlineWriter is a discardWriter whose transport takes read deadlines,
// on a real TCP connection, as net/http's writer does.
type deadlineWriter struct {
	discardWriter
	conn net.Conn
}

func (w *deadlineWriter) SetReadDeadline(t time.Time) error { return w.conn.SetReadDeadline(t) }

// loopbackConn is one end of a TCP connection on 127.0.0.1.
func loopbackConn(b *testing.B) net.Conn {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	peer := <-accepted
	b.Cleanup(func() { c.Close(); peer.Close() })
	return peer
}

// BenchmarkFenceSample is one read of the heap size by the memory fence's
// watchdog, which does it every fenceSampleEvery whatever the load.
func BenchmarkFenceSample(b *testing.B) {
	f := &memFence{sample: []metrics.Sample{{Name: heapMetric}}}
	b.ReportAllocs()
	for b.Loop() {
		if f.read() <= 0 {
			b.Fatal("no heap")
		}
	}
}
