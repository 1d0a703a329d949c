package supervisor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fcgiRecord builds one FastCGI record (FastCGI specification, 3.3).
func fcgiRecord(typ byte, id uint16, content []byte, padding int) []byte {
	var b bytes.Buffer
	b.WriteByte(1) // version
	b.WriteByte(typ)
	binary.Write(&b, binary.BigEndian, id)
	binary.Write(&b, binary.BigEndian, uint16(len(content)))
	b.WriteByte(byte(padding))
	b.WriteByte(0)
	b.Write(content)
	b.Write(make([]byte, padding))
	return b.Bytes()
}

// fcgiRequest is the records of one request: begin, params, empty params,
// empty stdin.
func fcgiRequest(id uint16, params int) []byte {
	var b bytes.Buffer
	b.Write(fcgiRecord(1, id, []byte{0, 1, 0, 0, 0, 0, 0, 0}, 0))
	b.Write(fcgiRecord(4, id, bytes.Repeat([]byte{'p'}, params), (8-params%8)%8))
	b.Write(fcgiRecord(4, id, nil, 0))
	b.Write(fcgiRecord(5, id, nil, 0))
	return b.Bytes()
}

func TestRecordCounter(t *testing.T) {
	tests := []struct {
		desc   string
		stream []byte
		want   int
	}{
		{"one request", fcgiRequest(1, 10), 1},
		{"three requests, padded params", bytes.Join([][]byte{fcgiRequest(1, 3), fcgiRequest(2, 300), fcgiRequest(3, 0)}, nil), 3},
		{"a large record whose content holds a begin header", fcgiRecord(5, 1, fcgiRequest(9, 5), 3), 0},
		{"no records", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			for _, chunk := range []int{1, 3, 8, 64, len(tt.stream) + 1} {
				var rc recordCounter
				got := 0
				for p := tt.stream; len(p) > 0; {
					n := min(chunk, len(p))
					got += rc.feed(p[:n])
					p = p[n:]
				}
				if got != tt.want {
					t.Errorf("fed in pieces of %d: %d requests, want %d", chunk, got, tt.want)
				}
			}
		})
	}
}

// socketPair returns two connected Unix stream sockets as non-blocking
// files, as the supervisor and a worker hold them.
func socketPair(t *testing.T) (sup, worker *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	sup, worker = os.NewFile(uintptr(fds[0]), "sup"), os.NewFile(uintptr(fds[1]), "worker")
	t.Cleanup(func() { sup.Close(); worker.Close() })
	return sup, worker
}

// nonblocking reports whether the socket behind ln is in non-blocking mode.
func nonblocking(t *testing.T, ln syscall.Conn) bool {
	t.Helper()
	raw, err := ln.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := raw.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		flags = int(r)
		if e != 0 {
			ferr = e
		}
	}); err != nil {
		t.Fatal(err)
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	return flags&syscall.O_NONBLOCK != 0
}

func TestPassedSocketStaysNonBlocking(t *testing.T) {
	tests := []struct {
		desc    string
		network string
		address func(t *testing.T) string
	}{
		{"TCP", "tcp", func(*testing.T) string { return "127.0.0.1:0" }},
		{"Unix", "unix", func(t *testing.T) string { return t.TempDir() + "/s.sock" }},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ln, err := net.Listen(tt.network, tt.address(t))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			sup, worker := socketPair(t)
			if err := sendSocket(sup, ln.(syscall.Conn)); err != nil {
				t.Fatal(err)
			}
			got, err := receiveSocket(worker)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if got.Addr().String() != ln.Addr().String() || got.Addr().Network() != ln.Addr().Network() {
				t.Errorf("received %s %s, sent %s %s", got.Addr().Network(), got.Addr(), ln.Addr().Network(), ln.Addr())
			}
			c, err := net.Dial(tt.network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ac, err := got.Accept()
			if err != nil {
				t.Fatal(err)
			}
			ac.Close()
			// The socket is shared: had anything put it into blocking
			// mode, every worker's accept would block in the kernel.
			if !nonblocking(t, ln.(syscall.Conn)) {
				t.Error("the shared socket is in blocking mode")
			}
			// Close wakes an Accept under way.
			errc := make(chan error, 1)
			go func() { _, err := got.Accept(); errc <- err }()
			got.Close()
			select {
			case err := <-errc:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Accept still blocked 5s after Close")
			}
		})
	}
}

func TestReceiveSocketRejectsOtherMessages(t *testing.T) {
	sup, worker := socketPair(t)
	if _, err := sup.WriteString("ready\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := receiveSocket(worker); err == nil || !strings.Contains(err.Error(), "no socket") {
		t.Fatalf("receiveSocket: %v, want an error saying no socket came", err)
	}
}

// testWorker is a Worker with its supervisor's end of the control
// connection, serving HTTP on a listener it received.
type testWorker struct {
	w    *Worker
	sup  *bufio.Reader
	ctl  *os.File
	srv  *http.Server
	ln   net.Listener
	errc chan error
}

func startTestWorker(t *testing.T, spec Spec) *testWorker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sup, ctl := socketPair(t)
	if err := sendSocket(sup, ln.(syscall.Conn)); err != nil {
		t.Fatal(err)
	}
	w := newWorker(spec, ctl)
	wl, err := w.Listener()
	if err != nil {
		t.Fatal(err)
	}
	tw := &testWorker{w: w, sup: bufio.NewReader(sup), ctl: sup, ln: ln, errc: make(chan error, 1)}
	tw.srv = &http.Server{Handler: w.CountHTTP(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, "ok")
	}))}
	go func() { tw.errc <- tw.srv.Serve(wl) }()
	t.Cleanup(func() { tw.srv.Close() })
	if err := w.Ready(); err != nil {
		t.Fatal(err)
	}
	tw.expect(t, msgReady)
	return tw
}

// expect reads the worker's next control message.
func (tw *testWorker) expect(t *testing.T, msg string) {
	t.Helper()
	tw.ctl.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := tw.sup.ReadString('\n')
	if err != nil || line != msg+"\n" {
		t.Fatalf("control message %q, %v; want %q", line, err, msg)
	}
}

func (tw *testWorker) waitDone(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-tw.w.Done():
	case <-time.After(within):
		t.Fatalf("Done not closed within %v", within)
	}
}

func TestWorkerRetiresAndDrains(t *testing.T) {
	tw := startTestWorker(t, Spec{MaxRequests: 2})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	url := "http://" + tw.ln.Addr().String() + "/"
	get := func() *http.Response {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	get()
	get()
	tw.expect(t, msgRetire) // at the budget

	// Told to stop, the worker drains: its kept-alive connection gets
	// "Connection: close" on the next response, and once it has closed,
	// Done says to shut down.
	start := time.Now()
	if _, err := tw.ctl.WriteString(msgStop + "\n"); err != nil {
		t.Fatal(err)
	}
	for !tw.w.ln.Load().draining() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("not draining 5s after stop")
		}
		time.Sleep(time.Millisecond)
	}
	if resp := get(); !resp.Close {
		t.Error("a response while draining did not close its connection")
	}
	tw.waitDone(t, 5*time.Second)
	if d := time.Since(start); d >= stopDrainBound {
		t.Errorf("drained in %v: it waited for the bound although the only connection closed", d)
	}
	// The server then shuts down cleanly: its Accept did not fail.
	if err := tw.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-tw.errc; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v, want http.ErrServerClosed", err)
	}
}

func TestWorkerDoneWhenSupervisorGone(t *testing.T) {
	tw := startTestWorker(t, Spec{})
	tw.ctl.Close()
	tw.waitDone(t, 5*time.Second)
}

func TestFastCGIListenerCountsAndWaits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sup, ctl := socketPair(t)
	if err := sendSocket(sup, ln.(syscall.Conn)); err != nil {
		t.Fatal(err)
	}
	w := newWorker(Spec{MaxRequests: 2}, ctl)
	wl, err := w.FastCGIListener(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ac, err := wl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	stream := append(fcgiRequest(1, 5), fcgiRequest(2, 9)...)
	if _, err := c.Write(stream); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for read := 0; read < len(stream); {
		n, err := ac.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		read += n
	}
	sc := bufio.NewScanner(sup)
	sup.SetReadDeadline(time.Now().Add(5 * time.Second))
	if !sc.Scan() || sc.Text() != msgRetire {
		t.Fatalf("control message %q, %v; want retire after two requests", sc.Text(), sc.Err())
	}

	// Close waits for the open connection.
	closed := make(chan struct{})
	go func() { wl.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a connection was open")
	case <-time.After(50 * time.Millisecond):
	}
	ac.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still waiting 5s after the last connection closed")
	}
}
