package tests

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadApp is version n of the plugin the load test rewrites: it returns its
// body in three chunks from an iterator function, each naming the version,
// so that a response mixing two versions would show.
func loadApp(n int) string {
	return fmt.Sprintf(`-- version %[1]d
local chunk = "v%[1]d;"

return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  local i = 0
  return function()
    i = i + 1
    if i <= 3 then
      return chunk
    end
  end
end
`, n)
}

var errMalformed = errors.New("malformed body")

// parseLoadBody returns the version a load test response names, or an
// error if the body is not exactly three equal chunks "vN;".
func parseLoadBody(body string) (int, error) {
	chunks := strings.SplitAfter(body, ";")
	if len(chunks) != 4 || chunks[3] != "" || chunks[0] != chunks[1] || chunks[1] != chunks[2] || !strings.HasPrefix(chunks[0], "v") {
		return 0, fmt.Errorf("%w: %q is not three equal chunks vN;", errMalformed, body)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(chunks[0][1:], ";"))
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", errMalformed, body, err)
	}
	return n, nil
}

// loadSample is one response of the load test.
type loadSample struct {
	client     int
	start, end time.Time // before sending the request; after reading the whole body
	version    int
}

// nearestRank returns the nearest-rank q-quantile of sorted durations.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// TestReloadUnderLoad rewrites a plugin every 100 ms for 20 s, by plain
// writes and atomic renames in turn, while 8 keep-alive clients request it
// flat out. It checks that no request fails, that every response is whole
// and from one version, and that a request started after a response
// showing version N had arrived never gets a version older than N. It
// reports the latency from each write to the first response showing that
// version or a later one (p50, p99, max), in the test log and, if
// LSGI_RELOAD_REPORT names a file, in that file.
//
// Only that ordering is asserted: a request that started before the swap
// may finish on the old version, so two requests running at once can see
// versions in either order.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 20 s")
	}
	const (
		clients   = 8
		editEvery = 100 * time.Millisecond
		minRun    = 20 * time.Second
		maxRun    = 25 * time.Second
		minEdits  = 100
		settle    = 2 * time.Second // for the last version to reach the clients
	)
	s := startServerFiles(t, "reload", map[string]string{"load.lua": loadApp(0)}, "--access-log", "off")
	file := filepath.Join(s.dir, "load.lua")
	url := s.base + "/load"
	s.get(t, "/load").expect(t, "GET /load before the edits", http.StatusOK, "v0;v0;v0;")

	client := &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			DisableCompression:  true,
			MaxIdleConnsPerHost: clients,
		},
		Timeout: 10 * time.Second,
	}
	defer client.CloseIdleConnections()

	var (
		samples     = make([][]loadSample, clients)
		failed      atomic.Int64 // transport errors, statuses other than 200, bad bodies
		malformed   atomic.Int64 // bad bodies among those
		newest      atomic.Int64 // the newest version any client has seen
		failMu      sync.Mutex
		failures    []string // the first few
		stop        = make(chan struct{})
		wg          sync.WaitGroup
		stopOnce    sync.Once
		stopClients = func() { stopOnce.Do(func() { close(stop); wg.Wait() }) }
	)
	fail := func(format string, args ...any) {
		failed.Add(1)
		failMu.Lock()
		defer failMu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	fetch := func() (int, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, fmt.Errorf("status %d, reading the body: %v (got %q)", resp.StatusCode, err, body)
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d, body %q", resp.StatusCode, body)
		}
		return parseLoadBody(string(body))
	}
	begin := time.Now()
	for c := range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				v, err := fetch()
				end := time.Now()
				if err != nil {
					if errors.Is(err, errMalformed) {
						malformed.Add(1)
					}
					fail("client %d, %v into the run: %v", c, start.Sub(begin).Round(time.Microsecond), err)
					continue
				}
				samples[c] = append(samples[c], loadSample{c, start, end, v})
				for {
					seen := newest.Load()
					if int64(v) <= seen || newest.CompareAndSwap(seen, int64(v)) {
						break
					}
				}
			}
		})
	}
	defer stopClients()

	// written[n] is when version n was on disk: just after the write or
	// the rename returned.
	written := []time.Time{{}}
	tick := time.NewTicker(editEvery)
	for n := 1; ; n++ {
		<-tick.C
		if n%2 == 0 {
			saveAtomic(t, file, loadApp(n))
		} else {
			savePlain(t, file, loadApp(n))
		}
		written = append(written, time.Now())
		if failed.Load() >= 100 {
			break // no point going on; the failures are reported below
		}
		if elapsed := time.Since(begin); elapsed >= minRun && n >= minEdits || elapsed >= maxRun {
			break
		}
	}
	tick.Stop()
	last := len(written) - 1
	for deadline := time.Now().Add(settle); newest.Load() < int64(last) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // between looks at what the clients saw
	}
	stopClients()
	ran := time.Since(begin)

	all := slices.Concat(samples...)
	requests := int64(len(all)) + failed.Load()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed; the first ones:\n%s", n, requests, strings.Join(failures, "\n"))
	}
	if got := newest.Load(); got != int64(last) {
		t.Errorf("the last version written was %d; the newest any client saw within %v was %d", last, settle, got)
	}

	// A request that started after a response showing version N had been
	// read must get N or newer: the swap is one atomic store, and the
	// version a request runs is chosen after it arrives.
	byEnd := slices.Clone(all)
	sort.Slice(byEnd, func(i, j int) bool { return byEnd[i].end.Before(byEnd[j].end) })
	newestBefore := make([]int, len(byEnd)) // newest version among byEnd[:i+1]
	for i, smp := range byEnd {
		newestBefore[i] = smp.version
		if i > 0 {
			newestBefore[i] = max(newestBefore[i], newestBefore[i-1])
		}
	}
	backwards := 0
	for _, smp := range all {
		// byEnd[:k] had been read in full before smp was sent.
		k := sort.Search(len(byEnd), func(i int) bool { return !byEnd[i].end.Before(smp.start) })
		if k > 0 && smp.version < newestBefore[k-1] {
			if backwards++; backwards <= 10 {
				t.Errorf("client %d: a request sent %v into the run got v%d, after a response showing v%d had been read",
					smp.client, smp.start.Sub(begin).Round(time.Microsecond), smp.version, newestBefore[k-1])
			}
		}
	}

	// Latency from the write of version n to the first response showing n
	// or a later version.
	firstSeen := make([]time.Time, last+2)
	for _, smp := range all {
		if v := smp.version; firstSeen[v].IsZero() || smp.end.Before(firstSeen[v]) {
			firstSeen[v] = smp.end
		}
	}
	// Versions no response showed: a later one came first. That happens
	// when two writes fall within one debounce period (the ticker catching
	// up after the writer was held up), or when the machine stalls for
	// longer than the time between them.
	var skipped []string
	for n := last; n >= 1; n-- {
		if firstSeen[n].IsZero() {
			how := "plain write"
			if n%2 == 0 {
				how = "atomic rename"
			}
			next := "the last"
			if n < last {
				next = fmt.Sprintf("v%d %v later", n+1, written[n+1].Sub(written[n]).Round(100*time.Microsecond))
			}
			skipped = append(skipped, fmt.Sprintf("v%d (%s, %v after v%d; %s)", n, how, written[n].Sub(written[n-1]).Round(100*time.Microsecond), n-1, next))
		}
		if later := firstSeen[n+1]; !later.IsZero() && (firstSeen[n].IsZero() || later.Before(firstSeen[n])) {
			firstSeen[n] = later
		}
	}
	var latencies []time.Duration
	for n := 1; n <= last; n++ {
		if !firstSeen[n].IsZero() {
			latencies = append(latencies, firstSeen[n].Sub(written[n]))
		}
	}
	slices.Sort(latencies)
	if len(latencies) < minEdits {
		t.Errorf("latency measured for %d edits, want at least %d", len(latencies), minEdits)
	}
	p50, p99 := nearestRank(latencies, 0.50), nearestRank(latencies, 0.99)
	maxLat := time.Duration(0)
	if len(latencies) > 0 {
		maxLat = latencies[len(latencies)-1]
	}

	// What the server logged: reloads, and loads of a half-written file.
	reloads := s.log.count(reloadedRE("load"))
	halfWritten := s.log.count(appLogRE("app reload failed; the previous version keeps serving", "load"))
	var took []time.Duration
	lines, _ := s.log.snapshot()
	for _, l := range lines {
		if reloadedRE("load").MatchString(l) {
			if d, err := time.ParseDuration(logField(l, "took")); err == nil {
				took = append(took, d)
			}
		}
	}
	slices.Sort(took)

	race := ""
	if raceEnabled {
		race = ", race detector on"
	}
	report := fmt.Sprintf(`reload under load: %v, %d clients (keep-alive), %d CPUs%s
edits: %d, every %v, plain writes and atomic renames in turn; %d reloads logged, %d loads of a half-written file refused
requests: %d (%.0f/s), failed: %d (%d of them whole but malformed or mixed), older than one already read: %d
write to first response showing it (%d edits): p50 %v, p99 %v, max %v
versions never shown on their own: %d %s
load of a new version (took= in the log): p50 %v, max %v
`,
		ran.Round(100*time.Millisecond), clients, runtime.NumCPU(), race,
		last, editEvery, reloads, halfWritten,
		requests, float64(requests)/ran.Seconds(), failed.Load(), malformed.Load(), backwards,
		len(latencies), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), maxLat.Round(100*time.Microsecond),
		len(skipped), strings.Join(skipped, ", "),
		nearestRank(took, 0.50), nearestRank(took, 1))
	t.Log("\n" + report)
	if path := os.Getenv("LSGI_RELOAD_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Errorf("LSGI_RELOAD_REPORT: %v", err)
		}
	}
}
