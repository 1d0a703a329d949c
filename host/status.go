package host

import (
	"runtime"
	"time"

	"github.com/lsgi/lsgi/luabridge"
)

// Status is a snapshot of the handler for its operators: what is mounted,
// how each app's loads went and, with [Config.Metrics], its requests. The
// status page of [Handler.AdminHandler] shows it, and package host/metrics
// exports it to Prometheus.
type Status struct {
	Version   string    `json:"version"`
	GoVersion string    `json:"go_version"`
	Started   time.Time `json:"started"`
	// Ready is [Handler.Ready].
	Ready bool `json:"ready"`
	// FirstLoad is how far the first load got.
	FirstLoad Progress `json:"first_load"`
	// LiveStates is [Handler.LiveStates].
	LiveStates int `json:"live_states"`
	// ReloadsOK and ReloadsFailed count the loads of plugins after their
	// first (a save, SIGHUP, Handler.Reload) that were swapped in or
	// failed.
	ReloadsOK     uint64 `json:"reloads_ok"`
	ReloadsFailed uint64 `json:"reloads_failed"`
	// Unmatched counts the requests under no mount (404), with
	// Config.Metrics.
	Unmatched uint64 `json:"unmatched_requests"`
	// Apps are the mounted apps, by mount.
	Apps []AppStatus `json:"apps"`
}

// AppStatus is one mounted app.
type AppStatus struct {
	Name  string `json:"name"`  // "hello"; "index" for the root app
	Mount string `json:"mount"` // "/hello"; "/" for the root app
	File  string `json:"file"`  // its main chunk
	// Serving is set when a version of the app serves requests; an app
	// that never loaded answers 500.
	Serving bool `json:"serving"`
	// Version is the number of the version that serves (the loads tried
	// so far count), and LoadedAt when it was swapped in.
	Version  int       `json:"version,omitempty"`
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// Error is set when the app's newest load failed, whether or not an
	// older version still serves.
	Error *LoadFailure `json:"error,omitempty"`
	// Requests are the app's request counts, with Config.Metrics.
	Requests *RequestStats `json:"requests,omitempty"`
}

// LoadFailure is a load of an app that failed.
type LoadFailure struct {
	Message string    `json:"message"`
	File    string    `json:"file,omitempty"` // where Lua placed the error, if it did
	Line    int       `json:"line,omitempty"`
	At      time.Time `json:"at"`
}

// Status returns a snapshot of the handler. It is safe to call at any time,
// during the first load too, but it walks every app: call it for a page or
// a scrape, not per request.
func (h *Handler) Status() Status {
	st := Status{
		Version:       Version,
		GoVersion:     runtime.Version(),
		Started:       h.started,
		Ready:         h.Ready(),
		FirstLoad:     h.first.snapshot(),
		LiveStates:    h.LiveStates(),
		ReloadsOK:     h.reg.reloadsOK.Load(),
		ReloadsFailed: h.reg.reloadsFailed.Load(),
		Unmatched:     h.unmatched.Load(),
	}
	for _, pl := range h.reg.mounted() {
		st.Apps = append(st.Apps, pl.status())
	}
	return st
}

func (pl *plugin) status() AppStatus {
	a := AppStatus{Name: pl.name, Mount: mountName(pl.prefix), File: pl.files.main()}
	if v := pl.current.Load(); v != nil {
		if v.pool != nil {
			a.Serving, a.Version, a.LoadedAt = true, v.n, v.at
		} else {
			a.Error = newLoadFailure(v.err, v.at)
		}
	}
	if f := pl.failed.Load(); f != nil {
		a.Error = newLoadFailure(f.err, f.at)
	}
	if pl.stats != nil {
		a.Requests = pl.stats.snapshot()
	}
	return a
}

func newLoadFailure(err error, at time.Time) *LoadFailure {
	f := &LoadFailure{Message: err.Error(), At: at}
	if file, line, ok := luabridge.ErrorPosition(err); ok {
		f.File, f.Line = file, line
	}
	return f
}
