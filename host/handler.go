package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/luabridge"
)

// Handler serves the mounted LSGI apps. It is an [http.Handler]; build it
// with [New] and release it with [Handler.Close].
type Handler struct {
	cfg     Config
	reg     *registry
	gateway environ.Gateway
	proxies environ.Proxies
	access  *accessLog
	watch   *watcher
	log     *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// New loads every plugin of cfg's folder and returns a handler serving them.
// A plugin that fails to load is logged and answers 500; New fails only when
// the folder itself cannot be read.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.withDefaults()
	fsys, root := cfg.FS, ""
	if fsys == nil && !cfg.NoPlugins {
		st, err := os.Stat(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("host: plugins folder: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("host: plugins folder %s is not a directory", cfg.Dir)
		}
		fsys, root = os.DirFS(cfg.Dir), cfg.Dir
	}
	allow := cfg.ForwardedAllowIPs
	if allow == nil {
		allow = []string{"127.0.0.1", "::1"}
	}
	proxies, err := environ.ParseProxies(allow)
	if err != nil {
		return nil, fmt.Errorf("host: ForwardedAllowIPs: %w", err)
	}
	cfg.Root = strings.TrimSuffix(cfg.Root, "/")
	if cfg.Root != "" && !strings.HasPrefix(cfg.Root, "/") {
		return nil, fmt.Errorf("host: Root %q must start with /", cfg.Root)
	}
	h := &Handler{
		cfg:     cfg,
		gateway: environ.Gateway{ServerSoftware: ServerSoftware},
		proxies: proxies,
		log:     cfg.Logger,
	}
	h.reg = newRegistry(fsys, root, &h.cfg)
	if len(cfg.Modules) > 0 {
		h.reg.setup = luabridge.PreloadModules(cfg.Modules)
	}
	for i := range h.cfg.Apps {
		if err := h.reg.mountStatic(context.Background(), &h.cfg.Apps[i]); err != nil {
			h.Close()
			return nil, err
		}
	}
	if cfg.AccessLog != nil {
		h.access = newAccessLog(cfg.AccessLog)
	}
	if err := h.reg.syncAll(context.Background(), false); err != nil {
		h.Close()
		return nil, err
	}
	if cfg.Watch && cfg.FS == nil {
		w, err := startWatcher(h.reg, cfg.Dir, cfg.PollInterval, cfg.Logger)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.watch = w
	}
	return h, nil
}

// Reload loads every plugin again, changed or not, and mounts and unmounts
// plugins added to or removed from the folder. A plugin whose new version
// fails to load keeps serving its previous one. lsgi serve calls it on
// SIGHUP.
func (h *Handler) Reload(ctx context.Context) error {
	return h.reg.syncAll(ctx, true)
}

// LiveStates returns the number of Lua states the handler has open, those
// of replaced versions still finishing requests included.
func (h *Handler) LiveStates() int { return h.reg.liveStates() }

// Mounts returns the mount prefixes ("/" for the root app) of the apps the
// handler serves, with the error of each app that failed to load.
func (h *Handler) Mounts() map[string]error {
	out := map[string]error{}
	for _, pl := range h.reg.plugins() {
		mount := pl.prefix
		if mount == "" {
			mount = "/"
		}
		out[mount] = pl.current.Load().err
	}
	return out
}

// Close releases every Lua state and stops the handler's background work.
// Requests still running finish on their states, which close when the
// requests end.
// Close is idempotent.
func (h *Handler) Close() error {
	h.closeOnce.Do(func() {
		if h.watch != nil {
			h.watch.close()
		}
		h.reg.close()
		if h.access != nil {
			h.closeErr = h.access.close()
		}
	})
	return h.closeErr
}

var varsPool = sync.Pool{New: func() any { v := make(environ.Vars, 0, 32); return &v }}

// ServeHTTP implements [http.Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	resp := &response{w: w, isHead: r.Method == http.MethodHead, declared: -1}
	if h.access != nil {
		defer func() { h.access.log(r, resp, start) }()
	}

	escaped := r.URL.EscapedPath()
	rest, underRoot := cutRoot(escaped, h.cfg.Root)
	if !underRoot {
		resp.plain(http.StatusNotFound, "404 Not Found\n")
		return
	}
	pl, prefix := h.reg.lookup(rest)
	if pl == nil {
		resp.plain(http.StatusNotFound, "404 Not Found\n")
		return
	}
	t := transportOf(r)
	if r.ContentLength > h.cfg.MaxBodyBytes && h.cfg.MaxBodyBytes > 0 {
		resp.plain(http.StatusRequestEntityTooLarge, "413 Request Entity Too Large\n")
		return
	}

	varsp := varsPool.Get().(*environ.Vars)
	defer varsPool.Put(varsp)
	gw := &h.gateway
	if t != nil && t.gateway != nil {
		gw = t.gateway
	}
	vars, err := environ.Build((*varsp)[:0], r, h.cfg.Root+prefix, gw)
	if err == nil {
		vars, err = h.proxies.Apply(vars, r)
	}
	if err == nil && t != nil {
		vars = append(vars, t.extra...)
	}
	if err == nil && h.cfg.Environ != nil {
		vars = append(vars, h.cfg.Environ(r)...)
	}
	*varsp = vars[:0]
	if err != nil {
		h.log.Info("bad request", "path", escaped, "err", err)
		resp.plain(http.StatusBadRequest, "400 Bad Request\n")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	resp.deadline, _ = ctx.Deadline()

	if h.cfg.Dev {
		if failure := pl.loadError(); failure != nil {
			h.devErrorPage(resp, r, pl, failure)
			return
		}
	}
	v, st, err := h.acquire(ctx, pl)
	if err != nil {
		h.refuse(resp, pl, err)
		return
	}
	req := luabridge.Request{Vars: vars, RunOnce: t != nil && t.runOnce}
	if r.Body != nil && r.Body != http.NoBody {
		body := r.Body
		if h.cfg.MaxBodyBytes > 0 {
			body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
		}
		req.Body = body
		// A client that trickles its body must not pin a state forever.
		_ = resp.controller().SetReadDeadline(resp.deadline)
	}
	err = st.Serve(ctx, &req, resp)
	v.pool.Put(st)
	resp.disarm()
	h.finish(resp, r, pl, err)
}

// acquire lends a state of the plugin's current version. A version can be
// retired between reading it and asking its pool (a reload); then the new
// one is used.
func (h *Handler) acquire(ctx context.Context, pl *plugin) (*version, *luabridge.State, error) {
	for {
		v := pl.current.Load()
		if v.err != nil {
			return v, nil, errNotLoaded
		}
		st, err := v.pool.Get(ctx, h.cfg.QueueTimeout)
		if errors.Is(err, luabridge.ErrClosed) && pl.current.Load() != v {
			continue
		}
		return v, st, err
	}
}

// refuse answers a request that never reached the app.
func (h *Handler) refuse(resp *response, pl *plugin, err error) {
	switch {
	case errors.Is(err, errNotLoaded):
		resp.plain(http.StatusInternalServerError, fmt.Sprintf("500 Internal Server Error: the app %q failed to load; see the server log\n", pl.name))
	case errors.Is(err, luabridge.ErrBusy):
		h.log.Warn("all Lua states busy", "app", pl.name, "waited", h.cfg.QueueTimeout)
		resp.w.Header().Set("Retry-After", "1")
		resp.plain(http.StatusServiceUnavailable, "503 Service Unavailable\n")
	case errors.Is(err, context.DeadlineExceeded):
		resp.plain(http.StatusGatewayTimeout, "504 Gateway Timeout\n")
	case errors.Is(err, context.Canceled):
		// The client left while waiting.
		resp.aborted = true
		panic(http.ErrAbortHandler)
	default:
		h.log.Error("cannot run app", "app", pl.name, "err", err)
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
	}
}

// finish turns the outcome of an app's run into what the client sees.
func (h *Handler) finish(resp *response, r *http.Request, pl *plugin, err error) {
	if resp.dropped {
		h.log.Warn("the app produced a body for a response that cannot have one; it was dropped", "app", pl.name, "path", r.URL.Path, "status", resp.status)
	}
	if resp.cut {
		h.log.Warn("the app sent more than its Content-Length; the body was cut", "app", pl.name, "path", r.URL.Path, "content_length", resp.declared)
	}
	if err == nil {
		if resp.short() {
			h.log.Warn("the app sent less than its Content-Length; closing the connection", "app", pl.name, "path", r.URL.Path,
				"content_length", resp.declared, "sent", resp.written)
		}
		return
	}
	h.fail(resp, r, pl, err)
}

// fail answers a request whose app run ended in err. It is apart from
// finish so that the success path allocates nothing for error matching.
func (h *Handler) fail(resp *response, r *http.Request, pl *plugin, err error) {
	var appErr *luabridge.AppError
	var clientErr *luabridge.ClientError
	switch {
	case errors.As(err, &clientErr):
		h.log.Debug("client went away", "app", pl.name, "path", r.URL.Path, "err", err)
		// Nothing useful can reach the client; make sure net/http does not
		// send an implicit empty 200 either.
		resp.aborted = resp.status == 0
		panic(http.ErrAbortHandler)
	case errors.As(err, &appErr):
		h.log.Error("app error", "app", pl.name, "method", r.Method, "path", r.URL.Path,
			"err", appErr.Err.Error(), "traceback", appErr.Traceback(), "headers_sent", resp.status != 0)
		if resp.status != 0 {
			// Part of the response is out: abort the connection so the
			// client sees a truncated body, never a complete-looking one.
			panic(http.ErrAbortHandler)
		}
		if appErr.Timeout {
			resp.plain(http.StatusGatewayTimeout, "504 Gateway Timeout\n")
		} else {
			resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
		}
	default:
		h.log.Error("request failed", "app", pl.name, "err", err)
		if resp.status == 0 {
			resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
		} else {
			panic(http.ErrAbortHandler)
		}
	}
}

// cutRoot strips the handler's Root from an escaped path, on a segment
// boundary.
func cutRoot(escaped, root string) (string, bool) {
	if root == "" {
		return escaped, true
	}
	rest, ok := strings.CutPrefix(escaped, root)
	if !ok || rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}
