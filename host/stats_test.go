package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCodeCounts(t *testing.T) {
	tests := []struct {
		desc  string
		codes []int
		want  map[int]uint64
	}{
		{"none", nil, map[int]uint64{}},
		{"repeats", []int{200, 200, 404, 200}, map[int]uint64{200: 3, 404: 1}},
		{"codes that share a first slot", []int{200, 200 + codeSlots, 200 + 2*codeSlots, 200}, map[int]uint64{200: 2, 200 + codeSlots: 1, 200 + 2*codeSlots: 1}},
		{"more codes than slots: the rest is other", func() []int {
			var c []int
			for i := range codeSlots + 3 {
				c = append(c, 100+i)
			}
			return append(c, 100)
		}(), func() map[int]uint64 {
			m := map[int]uint64{0: 3}
			for i := range codeSlots {
				m[100+i] = 1
			}
			m[100] = 2
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var c codeCounts
			for _, code := range tt.codes {
				c.add(code)
			}
			got := c.snapshot()
			if len(got) != len(tt.want) {
				t.Fatalf("snapshot = %v, want %v", got, tt.want)
			}
			for code, n := range tt.want {
				if got[code] != n {
					t.Errorf("code %d: %d, want %d (all: %v)", code, got[code], n, got)
				}
			}
		})
	}
}

func TestCodeCountsConcurrent(t *testing.T) {
	var c codeCounts
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				c.add(200 + (g+i)%5)
			}
		}()
	}
	wg.Wait()
	var total uint64
	for code, n := range c.snapshot() {
		if code < 200 || code > 204 {
			t.Errorf("unexpected code %d", code)
		}
		total += n
	}
	if total != 8000 {
		t.Errorf("counted %d responses, want 8000", total)
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		desc   string
		d      time.Duration
		bucket int
	}{
		{"zero", 0, 0},
		{"below the first bound", 5 * time.Microsecond, 0},
		{"on a bound: that bucket (le)", 100 * time.Microsecond, 0},
		{"just above a bound", 100*time.Microsecond + 1, 1},
		{"one second", time.Second, 12},
		{"above every bound", time.Minute, len(durationBounds)},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var h histogram
			h.observe(tt.d)
			s := h.snapshot()
			if s.Count != 1 || s.Counts[tt.bucket] != 1 || s.Sum != tt.d {
				t.Errorf("observe(%v) = %+v, want it in bucket %d", tt.d, s, tt.bucket)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	hist := func(pairs ...int) Histogram {
		h := Histogram{Counts: make([]uint64, len(durationBounds)+1)}
		for i := 0; i+1 < len(pairs); i += 2 {
			h.Counts[pairs[i]] = uint64(pairs[i+1])
			h.Count += uint64(pairs[i+1])
		}
		return h
	}
	tests := []struct {
		desc string
		h    Histogram
		q    float64
		want time.Duration
	}{
		{"empty", hist(), .5, 0},
		{"all in the first bucket: interpolated from zero", hist(0, 10), .5, 50 * time.Microsecond},
		{"median in the second bucket", hist(0, 2, 1, 2), .75, 175 * time.Microsecond},
		{"p99 past the last bound is the last bound", hist(0, 1, len(durationBounds), 99), .99, 30 * time.Second},
		{"the top of a bucket", hist(3, 4), 1, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := tt.h.Quantile(tt.q); got != tt.want {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

// TestMetricsCounts drives each outcome of the cycle through a handler with
// Config.Metrics and reads the counts back from Status.
func TestMetricsCounts(t *testing.T) {
	h, _ := newTestHandler(t, Config{Metrics: true, States: 1, QueueTimeout: 20 * time.Millisecond, Timeout: time.Second,
		Plugins: []PluginSource{
			App{Mount: "/ok", Name: "ok", Source: `return function(e, sr) sr("200 OK", {}) return {"ok"} end`},
			App{Mount: "/teapot", Name: "teapot", Source: `return function(e, sr) sr("418 I'm a teapot", {}) return {} end`},
			App{Mount: "/boom", Name: "boom", Source: `return function(e, sr) error("boom") end`},
			App{Mount: "/late", Name: "late", Source: `return function(e, sr)
				sr("200 OK", {})
				local n = 0
				return function() n = n + 1 if n == 1 then return "x" end error("late") end
			end`},
			App{Mount: "/loop", Name: "loop", Source: `return function(e, sr) while true do end end`},
			App{Mount: "/slow", Name: "slow", Source: `return function(e, sr)
				local t = os.clock() while os.clock() - t < 0.05 do end sr("200 OK", {}) return {"slow"} end`},
		}})
	for range 3 {
		get(h, "GET", "/ok")
	}
	get(h, "GET", "/teapot")
	get(h, "GET", "/boom")
	get(h, "GET", "/nowhere")
	get(h, "GET", "/loop")
	// Two at once on one state with a 20ms queue: one waits and is refused.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); get(h, "GET", "/slow") }()
	}
	wg.Wait()
	// An error after the headers aborts the response.
	func() {
		defer func() {
			if r := recover(); r != http.ErrAbortHandler {
				t.Errorf("the late error did not abort: %v", r)
			}
		}()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/late", nil))
	}()

	apps := map[string]*RequestStats{}
	st := h.Status()
	for _, a := range st.Apps {
		apps[a.Name] = a.Requests
	}
	check := func(app, what string, got, want uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %d, want %d", app, what, got, want)
		}
	}
	check("ok", "requests", apps["ok"].Total, 3)
	check("ok", "200s", apps["ok"].Codes[200], 3)
	check("ok", "duration count", apps["ok"].Duration.Count, 3)
	check("teapot", "418s", apps["teapot"].Codes[418], 1)
	check("boom", "500s", apps["boom"].Codes[500], 1)
	check("boom", "app errors", apps["boom"].AppErrors, 1)
	check("loop", "504s", apps["loop"].Codes[504], 1)
	check("loop", "timeouts", apps["loop"].Timeouts, 1)
	check("slow", "requests", apps["slow"].Total, 2)
	check("slow", "503s", apps["slow"].Codes[503], 1)
	check("slow", "busy", apps["slow"].Busy, 1)
	check("slow", "queue waits", apps["slow"].QueueWait.Count, 1)
	check("late", "aborted", apps["late"].Aborted, 1)
	check("late", "app errors", apps["late"].AppErrors, 1)
	check("host", "unmatched", st.Unmatched, 1)
	for name, r := range apps {
		if r.InFlight != 0 {
			t.Errorf("%s: %d in flight after every request ended", name, r.InFlight)
		}
	}
	if w := apps["slow"].QueueWait.Quantile(1); w < 10*time.Millisecond || w > time.Second {
		t.Errorf("the refused request waited %v by the histogram, want about the 20ms queue timeout", w)
	}
}

// TestMetricsOffCountsNothing checks that without Config.Metrics the
// status carries no request counts.
func TestMetricsOffCountsNothing(t *testing.T) {
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{App{Mount: "/ok", Name: "ok", Source: `return function(e, sr) sr("200 OK", {}) return {"ok"} end`}}})
	get(h, "GET", "/ok")
	get(h, "GET", "/nowhere")
	st := h.Status()
	if len(st.Apps) != 1 || st.Apps[0].Requests != nil || st.Unmatched != 0 {
		t.Errorf("status without Metrics = %+v, want no request counts", st)
	}
}

// TestMetricsAllocateNothing holds the hook to its promise: counting adds
// no allocation to a request.
func TestMetricsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	allocs := func(metrics bool) float64 {
		h, _ := newTestHandler(t, Config{Metrics: metrics, Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}}})
		req := &Request{Request: benchRequestFields()}
		w := &discardWriter{}
		return testing.AllocsPerRun(200, func() {
			if err := h.ServeRequest(context.Background(), w, req); err != nil {
				t.Fatal(err)
			}
		})
	}
	off, on := allocs(false), allocs(true)
	if on > off {
		t.Errorf("a request allocates %.1f times with Metrics, %.1f without", on, off)
	}
}

func TestStatusLoadErrors(t *testing.T) {
	h, _ := newTestHandler(t, Config{})
	var broken *AppStatus
	st := h.Status()
	for i := range st.Apps {
		if st.Apps[i].Name == "broken" {
			broken = &st.Apps[i]
		}
	}
	if broken == nil || broken.Serving || broken.Error == nil {
		t.Fatalf("status of the broken plugin = %+v, want an error and nothing serving", broken)
	}
	if !strings.HasSuffix(broken.Error.File, "broken.lua") || broken.Error.Line != 3 || broken.Error.At.IsZero() {
		t.Errorf("load error = %+v, want broken.lua line 3 and a time", broken.Error)
	}
	if !st.Ready || st.FirstLoad.Total != 7 || st.FirstLoad.Failed != 2 || st.FirstLoad.Loaded != 5 {
		t.Errorf("first load = %+v, ready %v; want 7 plugins, 2 failed, ready", st.FirstLoad, st.Ready)
	}
}
