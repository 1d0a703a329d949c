// This file is what the host serves itself under Config.Dev: the event
// stream of the browser refresh, the list of mounted apps, and a 404 that
// says why nothing serves a path.

package host

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lsgi/lsgi/devmode"
	"github.com/lsgi/lsgi/environ"
)

// pingInterval is how often an idle event stream sends a comment, so that
// proxies keep it open and a client that vanished is noticed.
const pingInterval = 15 * time.Second

// serveDev answers, under Config.Dev, a path under devPrefix or one that
// no app serves. Only loopback clients get more than the plain 404.
func (h *Handler) serveDev(ctx context.Context, x *exchange, r *Request, rest string, underRoot bool) error {
	resp := &x.resp
	remote, accept := h.devClient(x, r)
	local := environ.IsLoopback(remote)
	switch {
	case underRoot && rest == eventsPath && local:
		return h.serveEvents(ctx, resp, r.Query)
	case underRoot && strings.HasPrefix(rest, devPrefix):
		resp.plain(http.StatusNotFound, "404 Not Found\n")
		return nil
	}
	if underRoot && (rest == "" || rest == "/") {
		if !local {
			resp.plain(http.StatusNotFound, "404 Not Found\n")
			return nil
		}
		body, ctype := h.devIndex(http.StatusOK, "", "").Render(accept)
		resp.hostPage(http.StatusOK, ctype, body, "Cache-Control", "no-store")
		return nil
	}
	note := h.noAppNote(r.Path, underRoot)
	if rest != "/favicon.ico" {
		h.log.Info("no app serves this path", "path", r.Path, "why", note)
	}
	if !local || strings.HasSuffix(r.Path, ".ico") {
		resp.plain(http.StatusNotFound, "404 Not Found\n")
		return nil
	}
	body, ctype := h.devIndex(http.StatusNotFound, r.Path, note).Render(accept)
	resp.hostPage(http.StatusNotFound, ctype, body, "Cache-Control", "no-store")
	return nil
}

// devClient returns the client's address after trusted proxies and its
// Accept field, for a request no app serves.
func (h *Handler) devClient(x *exchange, r *Request) (remote, accept string) {
	vars, err := environ.Build(x.vars[:0], &r.Request, "", &h.software)
	if err == nil {
		vars, err = h.proxies.Apply(vars, r.RemoteAddr)
	}
	x.vars = vars[:0]
	if err != nil {
		return r.RemoteAddr, ""
	}
	remote, _ = vars.Get("REMOTE_ADDR")
	accept, _ = vars.Get("HTTP_ACCEPT")
	return remote, accept
}

// noAppNote says why no app serves path: it is outside Root (a proxy that
// strips a prefix the host expects, or the other way round), or no mount
// holds it.
func (h *Handler) noAppNote(path string, underRoot bool) string {
	var mounts []string
	for _, pl := range h.reg.mounted() {
		mounts = append(mounts, h.root+mountName(pl.prefix))
	}
	list := "none"
	if len(mounts) > 0 {
		list = strings.Join(mounts, ", ")
	}
	if !underRoot {
		return "The path is outside the root " + h.root + " the server was given (--root): every app is under it. " +
			"If a proxy strips that prefix before passing requests on, start the server without --root, or make the proxy keep it. Mounted: " + list + "."
	}
	hint := ""
	if h.root == "" && len(mounts) > 0 {
		hint = " If a proxy passes this server requests under a prefix it keeps (location /app/ { proxy_pass ...; }), start the server with --root set to that prefix."
	}
	return "No app is mounted at this path. Mounted: " + list + "." + hint
}

// devIndex lists the mounted apps.
func (h *Handler) devIndex(status int, path, note string) *devmode.Index {
	ix := &devmode.Index{Status: status, Path: path, Note: note, Reload: h.reload("")}
	for _, pl := range h.reg.mounted() {
		app := devmode.MountedApp{Name: pl.name, Mount: mountName(pl.prefix), URL: h.root + mountName(pl.prefix), File: pl.files.main()}
		if err := pl.loadError(); err != nil {
			app.Error = err.Error()
		}
		ix.Apps = append(ix.Apps, app)
	}
	return ix
}

// eventJSON is an event as the stream sends it.
type eventJSON struct {
	Kind    string `json:"kind"`
	App     string `json:"app,omitempty"`
	Mount   string `json:"mount,omitempty"`
	Version int    `json:"version,omitempty"`
	Gen     string `json:"gen,omitempty"`
	Error   string `json:"error,omitempty"`
}

// serveEvents is the browser refresh's event stream (server-sent events):
// a greeting with the generation of the app the query names ("app=NAME";
// none for every app), then every event about it, until the client leaves
// or the handler closes its streams. A page that started before the
// greeting's generation reloads.
func (h *Handler) serveEvents(ctx context.Context, resp *response, query string) error {
	app := ""
	if q, err := url.ParseQuery(query); err == nil {
		app = q.Get("app")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := h.reg.events.subscribe(ctx)
	resp.AddHeader("Content-Type", "text/event-stream")
	resp.AddHeader("Cache-Control", "no-store")
	resp.AddHeader("X-Accel-Buffering", "no") // nginx: pass each event on at once
	if allowed, err := resp.Start(http.StatusOK, "", -1); err != nil || !allowed {
		return nil
	}
	hello, _ := json.Marshal(eventJSON{Kind: "hello", App: app, Gen: h.reg.events.generation(app)})
	if resp.Write("retry: 500\ndata: "+string(hello)+"\n\n", true) != nil {
		return nil
	}
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		msg := ": ping\n\n"
		select {
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if app != "" && ev.App != app {
				continue
			}
			e := eventJSON{Kind: string(ev.Kind), App: ev.App, Mount: ev.Mount, Version: ev.Version}
			if ev.Err != nil {
				e.Error = ev.Err.Error()
			}
			data, _ := json.Marshal(e)
			msg = "data: " + string(data) + "\n\n"
		case <-ping.C:
		}
		if resp.Write(msg, true) != nil {
			return nil // the client left
		}
	}
}
