package tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lsgi serve --workers N, end to end: the supervisor and its worker
// processes run from the real binary on the fixtures of testdata/workers,
// and the tests kill, bomb, recycle, reload and stop them, watching the
// supervisor's log and the process table.

var (
	workerReadyRE   = regexp.MustCompile(`msg="worker ready" worker=(\d+)`)
	workerDiedRE    = regexp.MustCompile(`msg="worker died" worker=(\d+) status="([^"]*)"`)
	workerRetiredRE = regexp.MustCompile(`msg="worker retired" worker=(\d+)`)
)

// workerTimeout bounds the wait for a worker to die, start or retire.
const workerTimeout = 20 * time.Second

// waitLogCount waits until n lines match re and returns the submatches of
// all the matching lines.
func waitLogCount(t *testing.T, log *logBuffer, re *regexp.Regexp, n int) [][]string {
	t.Helper()
	deadline := time.NewTimer(workerTimeout)
	defer deadline.Stop()
	for {
		lines, changed := log.snapshot()
		var ms [][]string
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				ms = append(ms, m)
			}
		}
		if len(ms) >= n {
			return ms
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%d log lines match %q within %v, want %d", len(ms), re, workerTimeout, n)
		}
	}
}

// pidsOf returns the first submatch of each match as a pid.
func pidsOf(ms [][]string) []int {
	var pids []int
	for _, m := range ms {
		pid, _ := strconv.Atoi(m[1])
		pids = append(pids, pid)
	}
	return pids
}

// childrenOf returns the processes whose parent is pid, from /proc.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var kids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, p)
		}
	}
	return kids
}

// exists reports whether process pid exists (a zombie counts).
func exists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// freshClient makes each request on a new connection, so that each may
// land on any worker, and none is retried on another connection.
func freshClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
	}
}

// getBody requests url and returns the body of a 200 response.
func getBody(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s: %s", resp.Status, b)
	}
	return string(b), err
}

func TestWorkersMemoryBombRestartsTheWorker(t *testing.T) {
	// The in-process fence would stop the bomb first
	// (TestAttackMemoryFenceBeforeWorkerMemory): this is the hard fence.
	s := startServer(t, "workers", "--workers", "1", "--worker-memory", "256m", "--timeout", "20s", "--max-memory", "off")
	s.crashes = true // the bombed worker's runtime reports its death
	first := pidsOf(waitLogCount(t, s.log, workerReadyRE, 1))[0]

	body, err := getBody(freshClient(), s.base+"/bomb")
	if err == nil {
		t.Fatalf("the bomb request succeeded within a 256 MiB worker: %q", body)
	}
	died := waitLogCount(t, s.log, workerDiedRE, 1)[0]
	if died[1] != strconv.Itoa(first) {
		t.Errorf("worker %s died, want the bombed worker %d", died[1], first)
	}
	line, _ := s.log.find(workerDiedRE)
	if !strings.Contains(line, ` cause="`) {
		t.Errorf("the death is logged without its cause: %s", line)
	}
	// The Go runtime's words. Built with -race, the race detector's own
	// allocations (its shadow memory) reach the fence first, and the
	// worker ends in its words or in an abort instead.
	if !raceEnabled && !strings.Contains(line, "out of memory") {
		t.Errorf("the death is not logged as out of memory: %s", line)
	}
	waitLogCount(t, s.log, workerReadyRE, 2)
	if body, err := getBody(freshClient(), s.base+"/hi"); err != nil || body != "hi\n" {
		t.Fatalf("after the restart: %q, %v", body, err)
	}
}

func TestWorkersSIGKILLRestartsOnlyThatWorker(t *testing.T) {
	s := startServer(t, "workers", "--workers", "2")
	pids := pidsOf(waitLogCount(t, s.log, workerReadyRE, 2))
	victim, survivor := pids[0], pids[1]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	died := waitLogCount(t, s.log, workerDiedRE, 1)[0]
	if died[1] != strconv.Itoa(victim) || died[2] != "signal: killed" {
		t.Errorf("logged death of %s (%s), want %d (signal: killed)", died[1], died[2], victim)
	}
	// While the replacement starts, the other worker answers.
	c := freshClient()
	for i := range 20 {
		if body, err := getBody(c, s.base+"/hi"); err != nil || body != "hi\n" {
			t.Fatalf("request %d after the kill: %q, %v", i, body, err)
		}
	}
	replacement := pidsOf(waitLogCount(t, s.log, workerReadyRE, 3))[2]
	kids := childrenOf(t, s.cmd.Process.Pid)
	slices.Sort(kids)
	want := []int{survivor, replacement}
	slices.Sort(want)
	if !slices.Equal(kids, want) {
		t.Errorf("supervisor's children %v, want the survivor and the replacement %v", kids, want)
	}
	if n := s.log.count(workerDiedRE); n != 1 {
		t.Errorf("%d workers died, want 1", n)
	}
}

// keptAliveClient sends GET requests one after another on one connection
// and, unlike net/http's client, never retries one: a request the server
// drops (the connection closes before the response) fails, as it does for
// wrk. It opens a new connection only when a response said
// "Connection: close".
type keptAliveClient struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
}

func (k *keptAliveClient) get(path string) (string, error) {
	if k.conn == nil {
		c, err := net.DialTimeout("tcp", k.addr, 5*time.Second)
		if err != nil {
			return "", err
		}
		k.conn, k.r = c, bufio.NewReader(c)
	}
	k.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(k.conn, "GET %s HTTP/1.1\r\nHost: lsgi\r\n\r\n", path); err != nil {
		k.close()
		return "", err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		k.close()
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Close {
		k.close()
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return string(b), err
}

func (k *keptAliveClient) close() {
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}

func TestWorkersMaxRequestsRecycleWithoutFailures(t *testing.T) {
	s := startServer(t, "workers", "--workers", "2", "--max-requests", "20", "--max-requests-jitter", "5", "--access-log", "off")
	waitLogCount(t, s.log, workerReadyRE, 2)
	// Steady load while workers are replaced: two clients on kept-alive
	// connections that never retry, as wrk, and one opening a connection
	// per request, as nginx's proxy_pass by default. Every request must
	// succeed.
	var (
		served, failed atomic.Int64
		firstErr       atomic.Value
		wg             sync.WaitGroup
		stop           = make(chan struct{})
	)
	load := func(get func() (string, error)) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if body, err := get(); err != nil || body != "hi\n" {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%q, %v", body, err))
			}
			served.Add(1)
		}
	}
	for range 2 {
		k := &keptAliveClient{addr: s.addr}
		defer k.close()
		wg.Add(1)
		go load(func() (string, error) { return k.get("/hi") })
	}
	fresh := freshClient()
	wg.Add(1)
	go load(func() (string, error) { return getBody(fresh, s.base+"/hi") })

	deadline := time.Now().Add(workerTimeout)
	for s.log.count(workerRetiredRE) < 6 && time.Now().Before(deadline) && served.Load() < 10000 {
		_, changed := s.log.snapshot()
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed while workers were recycled; first: %v", n, served.Load(), firstErr.Load())
	}
	if n := s.log.count(workerRetiredRE); n < 6 {
		t.Errorf("%d workers retired after %d requests with a budget of 20 to 25, want 6", n, served.Load())
	}
	if n := s.log.count(workerDiedRE); n != 0 {
		t.Errorf("%d workers died", n)
	}
}

func TestWorkersSIGTERMStopsEverythingWithinTheGracefulTimeout(t *testing.T) {
	const grace = 2 * time.Second
	s := startServer(t, "workers", "--workers", "2", "--graceful-timeout", grace.String(), "--timeout", "60s")
	pids := pidsOf(waitLogCount(t, s.log, workerReadyRE, 2))

	// A request that will still be running at the deadline.
	resp, err := freshClient().Get(s.base + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("slow request: %q, %v", line, err)
	}

	start := time.Now()
	if err := s.terminate(t, syscall.SIGTERM); err != nil {
		t.Errorf("supervisor exit: %v, want a clean exit", err)
	}
	// The deadline, plus the time to kill and reap the workers.
	if d := time.Since(start); d > grace+2*time.Second {
		t.Errorf("stopped %v after SIGTERM, with a graceful timeout of %v", d, grace)
	}
	if _, ok := s.log.find(regexp.MustCompile(`killing them`)); !ok {
		t.Error("the worker holding the slow request was not killed at the deadline")
	}
	for _, pid := range pids {
		if exists(pid) {
			t.Errorf("worker %d still exists after the supervisor exited", pid)
		}
	}
	// Nothing else the test's server started survives it either.
	for _, pid := range childrenOf(t, 1) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), s.dir) {
			t.Errorf("process %d outlived the supervisor: %q", pid, cmdline)
		}
	}
}

func TestWorkersHotReloadInEveryWorker(t *testing.T) {
	s := startServerFiles(t, "workers", map[string]string{"version.lua": textApp("v1")}, "--workers", "2")
	pids := pidsOf(waitLogCount(t, s.log, workerReadyRE, 2))
	c := freshClient()
	if body, err := getBody(c, s.base+"/version"); err != nil || body != "v1" {
		t.Fatalf("before the edit: %q, %v", body, err)
	}

	savePlain(t, filepath.Join(s.dir, "version.lua"), textApp("v2"))
	reloaded := regexp.MustCompile(`msg="app reloaded" worker=(\d+) app=version\b`)
	got := pidsOf(waitLogCount(t, s.log, reloaded, 2))
	slices.Sort(got)
	slices.Sort(pids)
	if !slices.Equal(got, pids) {
		t.Errorf("reloaded in workers %v, want every worker %v", got, pids)
	}
	for i := range 20 {
		if body, err := getBody(c, s.base+"/version"); err != nil || body != "v2" {
			t.Fatalf("request %d after the edit: %q, %v", i, body, err)
		}
	}

	// SIGHUP reaches every worker too.
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	hup := regexp.MustCompile(`msg="SIGHUP: reloading every app" worker=(\d+)`)
	got = pidsOf(waitLogCount(t, s.log, hup, 2))
	slices.Sort(got)
	if !slices.Equal(got, pids) {
		t.Errorf("SIGHUP reached workers %v, want every worker %v", got, pids)
	}
}

func TestWorkersFastCGIBehindNginx(t *testing.T) {
	lookTool(t, "nginx", "nginx-light") // skip before starting anything
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.CopyFS(dir, os.DirFS("testdata/workers")); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(socketDir(t), "lsgi.sock")
	c := startChild(t, "lsgi serve --fastcgi --workers 2", filepath.Dir(dir), nil, binPath,
		"serve", "--fastcgi", "--bind", "unix:"+sock, "--root", "/app", "--access-log", "off",
		"--workers", "2", "--max-requests", "10", dir)
	c.waitLine(t, fastCGIListeningRE)
	ng := startNginx(t, fastCGILocation("/app", "unix:"+sock), false)
	client := testClient(t, "")
	for i := 0; c.log.count(workerRetiredRE) < 3; i++ {
		if i == 500 {
			t.Fatalf("500 requests and fewer than three workers retired with a budget of 10")
		}
		if body, err := getBody(client, ng.base+"/app/hi"); err != nil || body != "hi\n" {
			t.Fatalf("request %d through nginx: %q, %v", i, body, err)
		}
	}
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("the socket is gone while the supervisor runs: %v", err)
	}
}

// TestWorkersUnixSocketOutlivesWorkers checks that a worker closing its
// copy of a Unix socket leaves the socket file in place, and that the
// supervisor removes it when it stops.
func TestWorkersUnixSocketOutlivesWorkers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.CopyFS(dir, os.DirFS("testdata/workers")); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(socketDir(t), "lsgi.sock")
	c := startChild(t, "lsgi serve --workers 1", filepath.Dir(dir), nil, binPath,
		append(append([]string{"serve", "--bind", "unix:" + sock}, engineFlags()...), "--workers", "1", "--max-requests", "3", dir)...)
	c.waitLine(t, regexp.MustCompile(`msg="Listening at: http://`+regexp.QuoteMeta(sock)))
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	defer client.CloseIdleConnections()
	for i := 0; c.log.count(workerRetiredRE) < 2; i++ {
		if i == 200 {
			t.Fatal("200 requests and fewer than two workers retired with a budget of 3")
		}
		if body, err := getBody(client, "http://lsgi/hi"); err != nil || body != "hi\n" {
			t.Fatalf("request %d: %q, %v", i, body, err)
		}
	}
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the socket file went with a retired worker: %v", err)
	}
	c.exitExpected.Store(true)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(stopTimeout):
		t.Fatal("supervisor still running after SIGTERM")
	}
	if c.waitErr != nil {
		t.Errorf("supervisor exit: %v", c.waitErr)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket file is left after the supervisor stopped: %v", err)
	}
}

func TestWorkersStopWhenTheSupervisorIsKilled(t *testing.T) {
	s := startServer(t, "workers", "--workers", "2")
	pids := pidsOf(waitLogCount(t, s.log, workerReadyRE, 2))
	s.terminating.Store(true) // the test ends it itself
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	// Their control connection closes with the supervisor: the workers
	// stop on their own instead of serving on, unsupervised.
	deadline := time.Now().Add(workerTimeout)
	for _, pid := range pids {
		for exists(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d still running %v after its supervisor was killed", pid, workerTimeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
