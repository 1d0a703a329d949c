// Command scale measures lsgi serve with many plugins: for each count N it
// generates N one-line plugins (NAME.lua, or NAME/init.lua with -layout
// folder), starts the server on them, and reports the time from the start
// of the process to the first answer, the resident memory, the requests per
// second wrk gets from one plugin, the latency of reloading one plugin
// (from the moment a new version is written to the first response that
// carries it), the time it takes to ask every plugin once (8 clients; in a
// lazy host that opens a Lua state for each), and the requests per second
// wrk gets from all of them in turn after that, with the resident memory
// then. tests/load/scale.sh runs it;
// docs/PERFORMANCE.md ("10,000 plugins") holds its figures.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type options struct {
	lsgi     string
	counts   []int
	layout   string
	duration time.Duration
	conns    int
	edits    int
	pin      bool
	flags    []string
}

func main() {
	var o options
	var counts, flags string
	flag.StringVar(&o.lsgi, "lsgi", "lsgi", "the lsgi binary")
	flag.StringVar(&counts, "n", "1,1000,10000", "comma-separated plugin counts")
	flag.StringVar(&o.layout, "layout", "file", "file: NAME.lua plugins; folder: NAME/init.lua plugins")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each wrk run")
	flag.IntVar(&o.conns, "conns", 64, "wrk connections")
	flag.IntVar(&o.edits, "edits", 50, "edits of one plugin for the reload latency")
	flag.BoolVar(&o.pin, "pin", true, "pin the server to the last CPU and wrk to the first during wrk runs (taskset)")
	flag.StringVar(&flags, "flags", "", "extra flags for lsgi serve, space-separated")
	flag.Parse()
	for _, c := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fatalf("-n: %q is not a count", c)
		}
		o.counts = append(o.counts, n)
	}
	o.flags = strings.Fields(flags)
	if o.layout != "file" && o.layout != "folder" {
		fatalf("-layout: file or folder")
	}
	path, err := exec.LookPath(o.lsgi)
	if err == nil {
		o.lsgi, err = filepath.Abs(path) // the server runs in a folder of its own
	}
	if err != nil {
		fatalf("-lsgi: %v", err)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		fatalf("wrk is not installed (apt-get install wrk)")
	}
	fmt.Printf("| layout | plugins | first answer (CPU) | RSS at start | req/s, one plugin | reload p50 / p99 / max | every plugin once | req/s, all in turn | RSS after | peak RSS |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, n := range o.counts {
		r, err := measure(o, n)
		if err != nil {
			fatalf("%d plugins: %v", n, err)
		}
		fmt.Printf("| %s | %d | %.2f s (%.2f s) | %d MB | %d | %s | %.2f s | %d | %d MB | %d MB |\n", o.layout, n, r.first.Seconds(),
			r.cpu.Seconds(), r.rssStart>>10, r.oneRate, r.reload, r.touch.Seconds(), r.allRate, r.rssAfter>>10, r.peak>>10)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\n%d CPUs, %s, load average %s", runtime.NumCPU(), runtime.Version(), load)
}

type result struct {
	first, touch             time.Duration
	cpu                      time.Duration // the server's CPU time (user and system) up to its first answer
	rssStart, peak, rssAfter int64         // KiB
	oneRate, allRate         int
	reload                   string
}

func measure(o options, n int) (*result, error) {
	dir, err := os.MkdirTemp("", "lsgi-scale-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	plugins := filepath.Join(dir, "plugins")
	for i := 1; i <= n; i++ {
		if err := writePlugin(plugins, o.layout, i, fmt.Sprintf("p%d", i)); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + port
	logFile, err := os.Create(filepath.Join(dir, "lsgi.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := append([]string{"serve", "--bind", "127.0.0.1:" + port, "--access-log", "off"}, o.flags...)
	cmd := exec.Command(o.lsgi, append(args, plugins)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	r := &result{}
	if r.first, err = firstAnswer(client, base+"/p1", start, 3*time.Minute); err != nil {
		return nil, err
	}
	r.cpu = cpuTime(cmd.Process.Pid)
	time.Sleep(time.Second) // the garbage of the load collected
	r.rssStart, _ = memory(cmd.Process.Pid)
	if o.pin && runtime.NumCPU() >= 2 {
		// Every thread of the server to the last CPU, wrk to the first.
		pin := exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(runtime.NumCPU()-1), strconv.Itoa(cmd.Process.Pid))
		if out, err := pin.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("taskset: %v: %s", err, out)
		}
	}
	if r.oneRate, err = wrk(o, base+"/p1", ""); err != nil {
		return nil, err
	}
	// The reload latency of one plugin in the host as it started (after
	// one plugin's load): asking every plugin then fills the host with Lua
	// states, whose marking makes each garbage collection longer.
	if r.reload, err = reloadLatency(client, base, plugins, o, min(n, 2)); err != nil {
		return nil, err
	}
	if r.touch, err = touchAll(client, base, n); err != nil {
		return nil, err
	}
	script, err := roundRobin(dir, n)
	if err != nil {
		return nil, err
	}
	if r.allRate, err = wrk(o, base+"/", script); err != nil {
		return nil, err
	}
	r.rssAfter, r.peak = memory(cmd.Process.Pid)
	return r, nil
}

// writePlugin writes plugin i answering body.
func writePlugin(plugins, layout string, i int, body string) error {
	src := fmt.Sprintf("return function(e, sr) sr(\"200 OK\", {{\"Content-Type\", \"text/plain\"}}) return {%q} end\n", body)
	path := filepath.Join(plugins, fmt.Sprintf("p%d.lua", i))
	if layout == "folder" {
		path = filepath.Join(plugins, fmt.Sprintf("p%d", i), "init.lua")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(src), 0o644)
}

// firstAnswer polls url every 5 ms from start until it answers 200.
func firstAnswer(client *http.Client, url string, start time.Time, limit time.Duration) (time.Duration, error) {
	for time.Since(start) < limit {
		if resp, err := client.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("no answer from %s within %v", url, limit)
}

// touchAll asks every plugin once, from 8 clients, and returns how long
// that took.
func touchAll(client *http.Client, base string, n int) (time.Duration, error) {
	start := time.Now()
	next := make(chan int)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for i := range next {
				want := fmt.Sprintf("p%d", i)
				// (the plugin the reloads edited answers "pN vE")
				if body, err := get(client, fmt.Sprintf("%s/p%d", base, i)); err != nil || body != want && !strings.HasPrefix(body, want+" v") {
					errs <- fmt.Errorf("/p%d answered %q, %v", i, body, err)
					for range next {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 1; i <= n; i++ {
		next <- i
	}
	close(next)
	for range 8 {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// cpuTime returns the user and system CPU time pid has used: on a busy
// machine, a measure of the start that the load does not stretch.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th, in clock ticks of 1/100 s.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// memory returns the resident memory of pid and its peak, in KiB.
func memory(pid int) (rss, peak int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			peak = v
		}
	}
	return rss, peak
}

// roundRobin writes a wrk script that asks for /p1 to /pN in turn.
func roundRobin(dir string, n int) (string, error) {
	path := filepath.Join(dir, "all.lua")
	src := fmt.Sprintf("local i = 0\nrequest = function()\n  i = i %% %d + 1\n  return wrk.format(nil, \"/p\" .. i)\nend\n", n)
	return path, os.WriteFile(path, []byte(src), 0o644)
}

// wrk runs a 1 s warm-up and a measured run and returns its requests per
// second; any error or non-2xx answer is a failure.
func wrk(o options, url, script string) (int, error) {
	run := func(d time.Duration) (string, error) {
		args := []string{"-t1", "-c" + strconv.Itoa(o.conns), "-d" + d.String()}
		if script != "" {
			args = append(args, "-s", script)
		}
		args = append(args, url)
		if o.pin && runtime.NumCPU() >= 2 {
			args = append([]string{"-c", "0", "wrk"}, args...)
			out, err := exec.Command("taskset", args...).CombinedOutput()
			return string(out), err
		}
		out, err := exec.Command("wrk", args...).CombinedOutput()
		return string(out), err
	}
	if _, err := run(time.Second); err != nil {
		return 0, err
	}
	out, err := run(o.duration)
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if strings.Contains(out, "Non-2xx") || strings.Contains(out, "Socket errors") {
		return 0, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Requests/sec:"); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
}

// reloadLatency writes o.edits new versions of plugin i, 100 ms apart, and
// measures each from the write to the first response carrying it (polling
// every millisecond), as p50 / p99 / max.
func reloadLatency(client *http.Client, base, plugins string, o options, i int) (string, error) {
	url := fmt.Sprintf("%s/p%d", base, i)
	var took []time.Duration
	for e := 1; e <= o.edits; e++ {
		want := fmt.Sprintf("p%d v%d", i, e)
		if err := writePlugin(plugins, o.layout, i, want); err != nil {
			return "", err
		}
		written := time.Now()
		for {
			if time.Since(written) > 10*time.Second {
				return "", fmt.Errorf("edit %d of /p%d not served within 10 s", e, i)
			}
			body, err := get(client, url)
			if err == nil && body == want {
				took = append(took, time.Since(written))
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	}
	slices.Sort(took)
	q := func(p float64) time.Duration {
		return took[min(len(took)-1, int(p*float64(len(took))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("%v / %v / %v", q(0.5), q(0.99), took[len(took)-1].Round(100*time.Microsecond)), nil
}

func get(client *http.Client, url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", errors.New(resp.Status)
	}
	return string(body), err
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "scale: "+format+"\n", args...)
	os.Exit(1)
}
