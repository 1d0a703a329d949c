package fast_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
	"github.com/lsgi/lsgi/transport/fast"
)

var (
	memflatRequests = flag.Int("memflat.requests", 1_000_000, "requests TestMemoryFlat serves after its warm-up")
	memflatBudget   = flag.Duration("memflat.budget", 90*time.Second, "time TestMemoryFlat may take per engine; it stops early past it")
)

// TestMemoryFlat serves the load-test apps (hello, page, a stream, a POST
// with a body) over loopback, on each engine, and checks that the resident
// memory and the goroutines after -memflat.requests requests (a million by
// default) are within 10% of what they were after a warm-up of 10,000:
// nothing a request leaves behind accumulates. It takes a minute or two, so
// it is skipped under -short and under the race detector, whose shadow
// memory says nothing about the server's.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a million requests: skipped under -short")
	}
	if raceEnabled {
		t.Skip("memory under the race detector says nothing of the server's")
	}
	for _, engine := range []string{"fast", "std"} {
		t.Run(engine, func(t *testing.T) { memoryFlat(t, engine) })
	}
}

// memflatTargets are the requests the clients cycle through.
var memflatTargets = []string{
	"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /page?name=World HTTP/1.1\r\nHost: x\r\nUser-Agent: memflat\r\n\r\n",
	"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /stream?flush=1 HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /counter HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\n\r\n",
	"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
}

func memoryFlat(t *testing.T, engine string) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Two Lua states per app, which the warm-up surely opens, so that
	// what is measured after it is what requests leave, not states opened
	// as concurrency happens to rise.
	h, err := host.New(host.Config{Plugins: []host.PluginSource{host.Folder{Path: "../../tests/load/plugins"}}, Logger: logger, States: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv interface {
		Serve(net.Listener) error
		Close() error
	}
	if engine == "fast" {
		srv = &fast.Server{Handler: h, Logger: logger}
	} else {
		srv = transport.NewHTTPServer("", h, logger)
	}
	go srv.Serve(ln)
	defer srv.Close()

	const clients, batch = 8, 50
	load := func(n int, deadline time.Time) int {
		var done atomic.Int64
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				if err := pipelined(ln.Addr().String(), c, n/clients, batch, deadline, &done); err != nil {
					t.Error(err)
				}
			}(c)
		}
		wg.Wait()
		return int(done.Load())
	}
	start := time.Now()
	load(10_000, start.Add(*memflatBudget))
	rss0, gr0 := settle(t)
	served := 0
	for part := 0; part < 4 && time.Now().Before(start.Add(*memflatBudget)); part++ {
		served += load(*memflatRequests/4, start.Add(*memflatBudget))
		rss, gr := settle(t)
		t.Logf("%s engine: after %d requests: RSS %d KiB, %d goroutines", engine, 10_000+served, rss>>10, gr)
	}
	rss1, gr1 := settle(t)
	t.Logf("%s engine: after 10,000 requests: RSS %d KiB, %d goroutines; after %d more (%v): RSS %d KiB (%+.1f%%), %d goroutines",
		engine, rss0>>10, gr0, served, time.Since(start).Round(time.Second), rss1>>10, 100*float64(rss1-rss0)/float64(rss0), gr1)
	if float64(rss1) > 1.10*float64(rss0) {
		t.Errorf("RSS grew from %d to %d KiB (more than 10%%)", rss0>>10, rss1>>10)
	}
	if float64(gr1) > 1.10*float64(gr0) {
		t.Errorf("goroutines grew from %d to %d (more than 10%%)", gr0, gr1)
	}
}

// settle collects garbage, hands the freed memory back to the system (so
// that what is resident is what is kept, not what the allocator has not
// returned yet) and returns the resident memory and the goroutines, once
// idle connections' goroutines are gone.
func settle(t *testing.T) (rss int64, goroutines int) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
	debug.FreeOSMemory()
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	t.Logf("live heap %d KiB", live[0].Value.Uint64()>>10)
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			rss = kb << 10
		}
	}
	return rss, runtime.NumGoroutine()
}

// pipelined sends n requests on one connection, batch at a time, and reads
// every response; it stops early at deadline.
func pipelined(addr string, c, n, batch int, deadline time.Time, done *atomic.Int64) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	var out bytes.Buffer
	for sent := 0; sent < n && time.Now().Before(deadline); {
		out.Reset()
		k := min(batch, n-sent)
		methods := make([]string, k)
		for i := 0; i < k; i++ {
			req := memflatTargets[(c+sent+i)%len(memflatTargets)]
			methods[i] = req[:strings.IndexByte(req, ' ')]
			out.WriteString(req)
		}
		if _, err := conn.Write(out.Bytes()); err != nil {
			return err
		}
		for i := 0; i < k; i++ {
			resp, err := http.ReadResponse(br, &http.Request{Method: methods[i]})
			if err != nil {
				return fmt.Errorf("response %d: %w", sent+i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("response %d: status %d", sent+i, resp.StatusCode)
			}
		}
		sent += k
		done.Add(int64(k))
	}
	return nil
}
