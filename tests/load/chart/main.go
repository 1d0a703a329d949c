// Command chart turns the runs.tsv of a peer-harness run (run-peers.sh)
// into the peer table of docs/PERFORMANCE.md and an SVG bar chart of it:
// per server and workload, the median req/s of the repeats, its ratio to
// raw Go (peer go-raw) in the same run, and the server's CPU time per
// request, from the busy share of the server's core (pinned mode: CPU 1)
// over the measured run.
//
//	go run ./tests/load/chart -svg docs/peers.svg RESULTS/runs.tsv > table.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// run is one measured run of runs.tsv.
type run struct {
	mode, peer, workload string
	rps                  float64
	cpuUsPerReq          float64 // server core busy time per request, µs; 0 when unknown
}

func main() {
	svgPath := flag.String("svg", "", "write the chart to this SVG file")
	mode := flag.String("mode", "pinned", "CPU mode of the runs to use (pinned or unpinned)")
	serverCPU := flag.Int("server-cpu", 1, "the CPU the server was pinned to (SERVER_CPUS)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: chart [-svg FILE] [-mode pinned] RESULTS/runs.tsv")
		os.Exit(2)
	}
	runs, err := readRuns(flag.Arg(0), *mode, *serverCPU)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	t := summarize(runs)
	t.markdown(os.Stdout)
	if *svgPath != "" {
		f, err := os.Create(*svgPath)
		if err == nil {
			t.svg(f)
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "chart:", err)
			os.Exit(1)
		}
	}
}

func readRuns(path, mode string, serverCPU int) ([]run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols map[string]int
	var runs []run
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, name := range fields {
				cols[name] = i
			}
			continue
		}
		get := func(name string) string {
			if i, ok := cols[name]; ok && i < len(fields) {
				return fields[i]
			}
			return ""
		}
		if get("mode") != mode {
			continue
		}
		rps, _ := strconv.ParseFloat(get("rps"), 64)
		reqs, _ := strconv.ParseFloat(get("requests"), 64)
		dur, _ := strconv.ParseFloat(get("duration_us"), 64)
		busy, _ := strconv.ParseFloat(get(fmt.Sprintf("cpu%d_busy_pct", serverCPU)), 64)
		r := run{mode: mode, peer: get("peer"), workload: get("workload"), rps: rps}
		if reqs > 0 {
			r.cpuUsPerReq = busy / 100 * dur / reqs
		}
		runs = append(runs, r)
	}
	return runs, sc.Err()
}

// table is the summary: medians per peer and workload.
type table struct {
	peers, workloads []string
	rps, cpu         map[[2]string]float64
}

func summarize(runs []run) *table {
	t := &table{rps: map[[2]string]float64{}, cpu: map[[2]string]float64{}}
	rpsOf := map[[2]string][]float64{}
	cpuOf := map[[2]string][]float64{}
	for _, r := range runs {
		k := [2]string{r.peer, r.workload}
		if _, seen := rpsOf[k]; !seen {
			if !slices.Contains(t.peers, r.peer) {
				t.peers = append(t.peers, r.peer)
			}
			if !slices.Contains(t.workloads, r.workload) {
				t.workloads = append(t.workloads, r.workload)
			}
		}
		rpsOf[k] = append(rpsOf[k], r.rps)
		cpuOf[k] = append(cpuOf[k], r.cpuUsPerReq)
	}
	for k, v := range rpsOf {
		t.rps[k] = median(v)
		t.cpu[k] = median(cpuOf[k])
	}
	return t
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

func (t *table) markdown(w io.Writer) {
	fmt.Fprint(w, "| server |")
	for _, wl := range t.workloads {
		fmt.Fprintf(w, " %s req/s (vs raw Go) | %s CPU µs/req |", wl, wl)
	}
	fmt.Fprint(w, "\n|---|")
	for range t.workloads {
		fmt.Fprint(w, "---:|---:|")
	}
	fmt.Fprintln(w)
	for _, p := range t.peers {
		fmt.Fprintf(w, "| %s |", p)
		for _, wl := range t.workloads {
			rps, ok := t.rps[[2]string{p, wl}]
			if !ok {
				fmt.Fprint(w, " — | — |")
				continue
			}
			ratio := ""
			if ref := t.rps[[2]string{"go-raw", wl}]; ref > 0 {
				ratio = fmt.Sprintf(" (%.2f)", rps/ref)
			}
			fmt.Fprintf(w, " %s%s | %.1f |", thousands(rps), ratio, t.cpu[[2]string{p, wl}])
		}
		fmt.Fprintln(w)
	}
}

func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// svg draws grouped bars: one group per workload, one bar per server.
func (t *table) svg(w io.Writer) {
	const (
		barW, gap, groupGap = 14, 2, 28
		left, top, height   = 70, 30, 300
		legendRow           = 16
	)
	maxRPS := 1.0
	for _, v := range t.rps {
		maxRPS = max(maxRPS, v)
	}
	groupW := len(t.peers)*(barW+gap) + groupGap
	width := left + len(t.workloads)*groupW + 20
	total := top + height + 40 + legendRow*len(t.peers)
	colors := []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, total)
	fmt.Fprintf(w, `<text x="%d" y="18" font-size="13">Requests per second (median of repeats)</text>`+"\n", left)
	for i := 0; i <= 4; i++ {
		v := maxRPS * float64(i) / 4
		y := top + height - int(float64(height)*float64(i)/4)
		fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/><text x="%d" y="%d" text-anchor="end">%s</text>`+"\n",
			left, y, width-10, y, left-6, y+4, thousands(v))
	}
	for g, wl := range t.workloads {
		x0 := left + g*groupW + groupGap/2
		for i, p := range t.peers {
			v, ok := t.rps[[2]string{p, wl}]
			if !ok {
				continue
			}
			h := int(float64(height) * v / maxRPS)
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s %s: %s req/s</title></rect>`+"\n",
				x0+i*(barW+gap), top+height-h, barW, h, colors[i%len(colors)], p, wl, thousands(v))
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x0+len(t.peers)*(barW+gap)/2, top+height+16, wl)
	}
	for i, p := range t.peers {
		y := top + height + 34 + i*legendRow
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", left, y, colors[i%len(colors)], left+16, y+9, p)
	}
	fmt.Fprintln(w, "</svg>")
}
