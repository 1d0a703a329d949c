package main

// This file is --admin-bind under --workers: each worker serves its own
// admin handler on a Unix socket in a folder of the supervisor's, and the
// supervisor serves the admin address for all of them: /metrics merges the
// workers' metrics under a worker label, /readyz is ready while a worker is,
// and the status page of each worker is one link away.

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lsgi/lsgi/host"
)

// adminDirEnv names, in a worker's environment, the folder where it opens
// its admin socket, PID.sock.
const adminDirEnv = "LSGI_WORKER_ADMIN_DIR"

// workerAdminTimeout bounds each call the supervisor makes to a worker's
// admin socket: a stuck worker must not hang a scrape or a probe.
const workerAdminTimeout = 3 * time.Second

// workerAdminBind is the admin address of a worker process: its socket in
// the supervisor's folder, or "" when the supervisor has no admin listener.
func workerAdminBind() string {
	dir := os.Getenv(adminDirEnv)
	if dir == "" {
		return ""
	}
	return "unix:" + filepath.Join(dir, strconv.Itoa(os.Getpid())+".sock")
}

// workersAdmin is the supervisor's admin listener.
type workersAdmin struct {
	*adminServer
	dir   string      // the workers' admin sockets
	ready func() bool // every worker started once
}

// listenWorkersAdmin opens bind, so that a busy port fails before any
// worker starts, and a folder for the workers' sockets (see env).
func listenWorkersAdmin(bind string, logger *slog.Logger) (*workersAdmin, error) {
	admin, err := listenAdmin(bind, logger)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	dir, err := os.MkdirTemp("", "lsgi-admin-")
	if err != nil {
		admin.shutdown(context.Background())
		return nil, fmt.Errorf("admin sockets folder: %w", err)
	}
	return &workersAdmin{adminServer: admin, dir: dir}, nil
}

// start serves the admin endpoints; ready reports whether every worker
// has started once.
func (a *workersAdmin) start(ready func() bool) {
	a.ready = ready
	a.serve(a.handler())
	a.logger.Info("Admin listening at: http://"+a.ln.Addr().String(), "endpoints", "/ /healthz /readyz /metrics", "workers_sockets", a.dir)
}

// env is the workers' environment: the supervisor's, and the folder.
func (a *workersAdmin) env() []string {
	return append(os.Environ(), adminDirEnv+"="+a.dir)
}

// shutdown stops the listener within ctx and removes the folder.
func (a *workersAdmin) shutdown(ctx context.Context) {
	defer os.RemoveAll(a.dir)
	a.adminServer.shutdown(ctx)
}

// handler serves the admin endpoints of the supervisor.
func (a *workersAdmin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", a.serveReady)
	mux.HandleFunc("GET /metrics", a.serveMetrics)
	mux.HandleFunc("GET /{$}", a.serveIndex)
	mux.HandleFunc("/worker/{pid}/", a.serveWorker)
	return mux
}

// worker is one worker's admin socket.
type worker struct {
	pid    int
	socket string
	client *http.Client
}

// workers lists the admin sockets of the workers, by pid. A worker that
// died without closing its socket leaves a file whose calls fail: those
// are skipped where they are called.
func (a *workersAdmin) workers() []worker {
	paths, _ := filepath.Glob(filepath.Join(a.dir, "*.sock"))
	var ws []worker
	for _, p := range paths {
		pid, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".sock"))
		if err != nil {
			continue
		}
		socket := p
		ws = append(ws, worker{pid: pid, socket: socket, client: &http.Client{
			Timeout: workerAdminTimeout,
			// One connection a call: the worker list is read anew each
			// time, so no pool would outlive it.
			Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", socket)
			}},
		}})
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].pid < ws[j].pid })
	return ws
}

// get fetches path from the worker's admin handler.
func (w worker) get(ctx context.Context, path string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://worker"+path, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			_ = os.Remove(w.socket) // a worker that was killed left it
		}
		return nil, nil, fmt.Errorf("worker %d: %w", w.pid, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("worker %d: %s: %w", w.pid, path, err)
	}
	return resp, body, nil
}

// serveReady answers 200 once every worker has started and while at least
// one worker is ready; 503 otherwise.
func (a *workersAdmin) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ready := 0
	if a.ready() {
		for _, wk := range a.workers() {
			if resp, _, err := wk.get(r.Context(), "/readyz"); err == nil && resp.StatusCode == http.StatusOK {
				ready++
			}
		}
	}
	if ready == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: no worker is ready\n")
		return
	}
	fmt.Fprintf(w, "ready: %d workers\n", ready)
}

// serveMetrics merges the workers' metrics: each sample gains the label
// worker="PID", so that sum by (app) adds the workers up; and
// lsgi_workers_scraped counts the workers that answered.
func (a *workersAdmin) serveMetrics(w http.ResponseWriter, r *http.Request) {
	ws := a.workers()
	type scrape struct {
		fams map[string]*dto.MetricFamily
		err  error
	}
	scrapes := make([]scrape, len(ws))
	var wg sync.WaitGroup
	for i, wk := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body, err := wk.get(r.Context(), "/metrics")
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("worker %d: /metrics: %s", wk.pid, resp.Status)
			}
			if err == nil {
				parser := expfmt.NewTextParser(model.UTF8Validation)
				scrapes[i].fams, err = parser.TextToMetricFamilies(strings.NewReader(string(body)))
			}
			scrapes[i].err = err
		}()
	}
	wg.Wait()

	merged := map[string]*dto.MetricFamily{}
	answered := 0
	for i, s := range scrapes {
		if s.err != nil {
			a.logger.Debug("worker metrics", "err", s.err)
			continue
		}
		answered++
		label := &dto.LabelPair{Name: ptr("worker"), Value: ptr(strconv.Itoa(ws[i].pid))}
		for name, fam := range s.fams {
			for _, m := range fam.Metric {
				m.Label = append(m.Label, label)
			}
			if have, ok := merged[name]; ok {
				have.Metric = append(have.Metric, fam.Metric...)
			} else {
				merged[name] = fam
			}
		}
	}
	gauge := dto.MetricType_GAUGE
	merged["lsgi_workers_scraped"] = &dto.MetricFamily{
		Name:   ptr("lsgi_workers_scraped"),
		Help:   ptr("Workers whose metrics this scrape holds (the supervisor's admin listener)."),
		Type:   &gauge,
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: ptr(float64(answered))}}},
	}
	names := make([]string, 0, len(merged))
	for name := range merged {
		names = append(names, name)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	for _, name := range names {
		if _, err := expfmt.MetricFamilyToText(w, merged[name]); err != nil {
			a.logger.Warn("write /metrics", "err", err)
			return
		}
	}
}

// indexPage lists the workers, each linking to its own status page.
var indexPage = template.Must(template.New("workers").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LSGI workers</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em;color:#1d1d21}td,th{padding:.2em 1em;text-align:left}</style>
</head><body><h1>LSGI {{.Version}}: {{len .Workers}} workers</h1>
<table><tr><th>worker</th><th>status</th></tr>
{{range .Workers}}<tr><td><a href="/worker/{{.PID}}/">{{.PID}}</a></td><td>{{.Status}}</td></tr>
{{end}}</table>
<p><a href="/metrics">metrics</a> (every worker's, with a worker label) · <a href="/healthz">healthz</a> · <a href="/readyz">readyz</a></p>
</body></html>
`))

// serveIndex is the supervisor's status page: the workers and whether each
// is ready.
func (a *workersAdmin) serveIndex(w http.ResponseWriter, r *http.Request) {
	type row struct {
		PID    int
		Status string
	}
	var rows []row
	for _, wk := range a.workers() {
		status := "not answering"
		if resp, _, err := wk.get(r.Context(), "/readyz"); err == nil {
			status = "ready"
			if resp.StatusCode != http.StatusOK {
				status = "loading"
			}
		}
		rows = append(rows, row{wk.pid, status})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexPage.Execute(w, struct {
		Version string
		Workers []row
	}{host.Version, rows}); err != nil {
		a.logger.Warn("status page", "err", err)
	}
}

// serveWorker passes /worker/PID/... to that worker's admin handler: its
// status page, and the rest of its endpoints.
func (a *workersAdmin) serveWorker(w http.ResponseWriter, r *http.Request) {
	pid, err := strconv.Atoi(r.PathValue("pid"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	for _, wk := range a.workers() {
		if wk.pid != pid {
			continue
		}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(&url.URL{Scheme: "http", Host: "worker"})
				pr.Out.URL.Path = strings.TrimPrefix(r.URL.Path, "/worker/"+strconv.Itoa(pid))
				pr.Out.URL.RawPath = ""
			},
			Transport: wk.client.Transport,
			ErrorLog:  slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		}
		proxy.ServeHTTP(w, r)
		return
	}
	http.Error(w, "no such worker", http.StatusNotFound)
}

func ptr[T any](v T) *T { return &v }
