// This file is the handler's admin side, for a listener of its own: health
// and readiness probes, the status page (HTML, or JSON) and, when a
// program supplies one, the Prometheus endpoint.

package host

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// AdminOptions configure [Handler.AdminHandler].
type AdminOptions struct {
	// Engine names the HTTP engine that serves the apps ("net/http"), for
	// the status page.
	Engine string

	// Metrics, if set, serves /metrics: promhttp's handler for a registry
	// holding package host/metrics' collector. Nil leaves /metrics out, so
	// that package host needs no Prometheus client.
	Metrics http.Handler
}

// AdminHandler returns the handler's admin endpoints, meant for a listener
// apart from the apps' (lsgi serve --admin-bind), never for the public:
//
//   - /healthz answers 200 while the process serves.
//   - /readyz answers 200 when [Handler.Ready], else 503: during the first
//     load and once shutdown began.
//   - / is the status page: the mounted apps with their versions, load
//     errors and request counts and latencies ([Handler.Status]), in HTML,
//     or in JSON for /?format=json or a request that accepts
//     application/json.
//   - /metrics is opts.Metrics, if set.
//
// It may be served before [New] returns (see [Config.BeforeLoad]).
func (h *Handler) AdminHandler(opts AdminOptions) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		adminText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if h.Ready() {
			adminText(w, http.StatusOK, "ready\n")
			return
		}
		if !h.loaded.Load() {
			p := h.first.snapshot()
			adminText(w, http.StatusServiceUnavailable, fmt.Sprintf("not ready: loading apps, %d of %d done\n", p.Loaded+p.Failed, p.Total))
			return
		}
		adminText(w, http.StatusServiceUnavailable, "not ready: shutting down\n")
	})
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		st := h.Status()
		w.Header().Set("Cache-Control", "no-store")
		if wantsJSON(r) {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(statusJSON{Status: st, Engine: opts.Engine, Uptime: time.Since(st.Started).Round(time.Second).String(),
				Buckets: bucketSeconds()})
			return
		}
		var buf strings.Builder
		if err := statusTemplate.Execute(&buf, newStatusView(st, opts.Engine)); err != nil {
			h.log.Error("status page", "err", err)
			adminText(w, http.StatusInternalServerError, "500 Internal Server Error\n")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(buf.String()))
	})
	return mux
}

func adminText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// wantsJSON reports whether the status was asked for in JSON.
func wantsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "json"
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// statusJSON is the status page's JSON twin.
type statusJSON struct {
	Status
	Engine string `json:"engine,omitempty"`
	Uptime string `json:"uptime"`
	// Buckets are the upper bounds, in seconds, of the histograms'
	// counts, the last count being above every bound.
	Buckets []float64 `json:"histogram_buckets_seconds"`
}

func bucketSeconds() []float64 {
	out := make([]float64, len(durationBounds))
	for i, b := range durationBounds {
		out[i] = b.Seconds()
	}
	return out
}

// statusView is what the status page template shows.
type statusView struct {
	Status
	Engine, Uptime, StartedAt string
	Apps                      []appView
	Failing                   int
}

type appView struct {
	AppStatus
	FileName                   string // the file's base name; the page shows the path on hover
	LoadedAt, LoadedDate       string
	ErrorAt, ErrorPlace        string
	Requests, InFlight, Errors string
	P50, P90, P99              string
}

func newStatusView(st Status, engine string) statusView {
	v := statusView{Status: st, Engine: engine, Uptime: formatUptime(time.Since(st.Started)),
		StartedAt: st.Started.Format(time.RFC3339)}
	for _, a := range st.Apps {
		av := appView{AppStatus: a, FileName: path.Base(filepath.ToSlash(a.File)),
			Requests: "–", InFlight: "–", Errors: "–", P50: "–", P90: "–", P99: "–"}
		if !a.LoadedAt.IsZero() {
			av.LoadedAt, av.LoadedDate = a.LoadedAt.Format("15:04:05"), a.LoadedAt.Format("2006-01-02")
		}
		if a.Error != nil {
			v.Failing++
			av.ErrorAt = a.Error.At.Format("2006-01-02 15:04:05")
			if a.Error.File != "" {
				av.ErrorPlace = path.Base(filepath.ToSlash(a.Error.File)) + ":" + strconv.Itoa(a.Error.Line)
			}
		}
		if r := a.Requests; r != nil {
			av.Requests = strconv.FormatUint(r.Total, 10)
			av.InFlight = strconv.FormatInt(r.InFlight, 10)
			av.Errors = strconv.FormatUint(serverErrors(r), 10)
			if r.Total > 0 {
				av.P50, av.P90, av.P99 = formatLatency(r.Duration.Quantile(.5)), formatLatency(r.Duration.Quantile(.9)), formatLatency(r.Duration.Quantile(.99))
			}
		}
		v.Apps = append(v.Apps, av)
	}
	return v
}

// serverErrors counts the 5xx responses.
func serverErrors(r *RequestStats) uint64 {
	var n uint64
	for c, k := range r.Codes {
		if c >= 500 && c < 600 {
			n += k
		}
	}
	return n
}

// formatLatency shows a latency estimated from the histogram; one in the
// first bucket is shown as its bound, since nothing below it is measured.
func formatLatency(d time.Duration) string {
	switch {
	case d <= durationBounds[0]:
		return "≤ " + strconv.FormatInt(durationBounds[0].Microseconds(), 10) + " µs"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

func formatUptime(d time.Duration) string {
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		return fmt.Sprintf("%dd %s", days, d)
	}
	return d.String()
}

var statusTemplate = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LSGI status</title>
<style>
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f8f9fb;--ok:#117a3d;--okbg:#e3f6ea;--bad:#b42318;--badbg:#fdecea;--warnbg:#fff6e0}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:1.2em 2em}
h1{font-size:1.35em;margin:0 0 .4em}
main{padding:1.2em 2em}
.scroll{overflow-x:auto}
.facts{display:flex;flex-wrap:wrap;gap:.4em 1.6em;color:var(--muted)}
.facts b{color:var(--fg);font-weight:600}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;font-size:.85em;font-weight:600;vertical-align:middle}
.ok{background:var(--okbg);color:var(--ok)}.bad{background:var(--badbg);color:var(--bad)}.warn{background:var(--warnbg);color:#8a5a00}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line)}
th,td{padding:.5em .7em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:.8em;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#fcfcfd}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{white-space:nowrap}
tr.failing td{background:#fffafa}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
.err{color:var(--bad);white-space:pre-wrap;word-break:break-word;max-width:40em}
.muted{color:var(--muted)}
footer{padding:0 2em 2em;color:var(--muted)}
footer a{color:inherit}
</style></head><body>
<header>
<h1>LSGI status {{if .Ready}}<span class="badge ok">ready</span>{{else}}<span class="badge warn">not ready</span>{{end}}
{{if .Failing}}<span class="badge bad">{{.Failing}} failing</span>{{end}}</h1>
<div class="facts">
<span>lsgi <b>{{.Version}}</b></span>
<span>{{.GoVersion}}</span>
{{if .Engine}}<span>engine <b>{{.Engine}}</b></span>{{end}}
<span>up <b>{{.Uptime}}</b> <span title="{{.StartedAt}}">since {{.StartedAt}}</span></span>
<span>apps <b>{{len .Apps}}</b></span>
<span>Lua states <b>{{.LiveStates}}</b></span>
<span>reloads <b>{{.ReloadsOK}}</b> ok, <b>{{.ReloadsFailed}}</b> failed</span>
{{if not .Ready}}<span>loading <b>{{.FirstLoad.Loaded}}</b> of <b>{{.FirstLoad.Total}}</b>{{if .FirstLoad.Failed}}, {{.FirstLoad.Failed}} failed{{end}}</span>{{end}}
</div>
</header>
<main>
{{if .Apps}}<div class="scroll"><table>
<thead><tr><th>App</th><th>Mount</th><th>File</th><th>Version</th><th>Loaded</th>
<th class="n">Requests</th><th class="n">In flight</th><th class="n">5xx</th><th class="n">p50</th><th class="n">p90</th><th class="n">p99</th><th>Last load error</th></tr></thead>
<tbody>
{{range .Apps}}<tr{{if .Error}} class="failing"{{end}}>
<td><b>{{.Name}}</b></td>
<td><code>{{.Mount}}</code></td>
<td><code title="{{.File}}">{{.FileName}}</code></td>
<td class="n">{{if .Serving}}{{.Version}}{{else}}<span class="badge bad">not loaded</span>{{end}}</td>
<td class="t muted" title="{{.LoadedDate}}">{{.LoadedAt}}</td>
<td class="n">{{.Requests}}</td><td class="n">{{.InFlight}}</td><td class="n">{{.Errors}}</td>
<td class="n">{{.P50}}</td><td class="n">{{.P90}}</td><td class="n">{{.P99}}</td>
<td>{{with .Error}}<div class="err">{{.Message}}</div>{{end}}{{if .ErrorPlace}}<code title="{{.Error.File}}:{{.Error.Line}}">{{.ErrorPlace}}</code> {{end}}{{if .ErrorAt}}<span class="muted">at {{.ErrorAt}}{{if .Serving}}; the previous version serves{{end}}</span>{{end}}</td>
</tr>
{{end}}</tbody></table></div>
{{else}}<p class="muted">No app is mounted{{if not .Ready}} yet{{end}}.</p>{{end}}
</main>
<footer>Latencies are estimated from the request duration histograms since start.
<a href="?format=json">JSON</a> · <a href="metrics">metrics</a> · <a href="healthz">healthz</a> · <a href="readyz">readyz</a></footer>
</body></html>
`))
