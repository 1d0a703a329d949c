package fast_test

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
	"github.com/lsgi/lsgi/transport/fast"
)

// The engine benchmarks serve requests from memory: one connection whose
// reads return the same request again and again and whose writes are
// counted, so that what is measured is the engine and the request cycle,
// not the kernel. Each engine serves the same apps (tests/load/plugins) in
// the same run; compare the ns/op of fast and std.

// replayConn is a net.Conn that reads req n times, then waits until it is
// closed.
type replayConn struct {
	req      []byte
	left     atomic.Int64
	pending  []byte
	written  atomic.Int64
	closed   chan struct{}
	closeOne sync.Once
}

func newReplayConn(req string, n int) *replayConn {
	c := &replayConn{req: []byte(req), closed: make(chan struct{})}
	c.left.Store(int64(n))
	return c
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.left.Load() == 0 {
			<-c.closed // as a client that stays connected
			return 0, io.EOF
		}
		c.left.Add(-1)
		c.pending = c.req
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *replayConn) Write(p []byte) (int, error) { c.written.Add(int64(len(p))); return len(p), nil }
func (c *replayConn) Close() error {
	c.closeOne.Do(func() { close(c.closed) })
	return nil
}
func (c *replayConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
}
func (c *replayConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// oneConnListener accepts c once, then blocks until closed.
type oneConnListener struct {
	c    net.Conn
	once sync.Once
	done chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.c })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}
func (l *oneConnListener) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

func benchHost(b *testing.B) *host.Handler {
	b.Helper()
	h, err := host.New(host.Config{Plugins: []host.PluginSource{host.Folder{Path: "../../tests/load/plugins"}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// serveReplay serves b.N copies of req on one connection with engine and
// waits until all were answered.
func serveReplay(b *testing.B, engine string, h *host.Handler, req string, wantBytes int) {
	c := newReplayConn(req, b.N)
	ln := &oneConnListener{c: c, done: make(chan struct{})}
	var srv interface {
		Serve(net.Listener) error
		Close() error
	}
	switch engine {
	case "fast":
		srv = &fast.Server{Handler: h}
	default:
		srv = transport.NewHTTPServer("", h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	// Once the last request is read and the writes have stopped, every
	// response is out.
	for last := int64(-1); ; {
		time.Sleep(50 * time.Microsecond)
		w := c.written.Load()
		if c.left.Load() == 0 && w == last && w >= int64(wantBytes*b.N) {
			break
		}
		last = w
	}
	b.StopTimer()
	srv.Close()
	<-served
}

func benchEngines(b *testing.B, req string, wantBytes int) {
	for _, engine := range []string{"fast", "std"} {
		b.Run(engine, func(b *testing.B) { serveReplay(b, engine, benchHost(b), req, wantBytes) })
	}
}

const benchHeaders = "Host: localhost:8000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"

func BenchmarkEngineHello(b *testing.B) {
	benchEngines(b, "GET /hello HTTP/1.1\r\n"+benchHeaders, len("Hello, world!"))
}

func BenchmarkEnginePage(b *testing.B) {
	benchEngines(b, "GET /page?name=World HTTP/1.1\r\n"+benchHeaders, 1013)
}

func BenchmarkEngineStream(b *testing.B) {
	benchEngines(b, "GET /stream HTTP/1.1\r\n"+benchHeaders, 10000)
}
