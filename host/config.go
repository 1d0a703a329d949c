package host

import (
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/lualib"
)

// Version is the version of LSGI this host implements and ships.
const Version = "0.1.0"

// ServerSoftware is the SERVER_SOFTWARE value apps see.
const ServerSoftware = "lsgi/" + Version

// Config configures a [Handler]. The zero value of every field works: a
// zero Config serves the plugins folder "plugins", unwatched.
type Config struct {
	// Plugins are where the apps come from: plugins folders ([Folder],
	// [FolderFS]) and single apps ([App]), in any number. Nil means
	// Folder{Path: "plugins"}.
	Plugins []PluginSource

	// Root is the URL path prefix under which the handler is mounted, as
	// in net/http/cgi's Handler.Root: a request outside it gets 404, and
	// SCRIPT_NAME starts with it. Use it instead of http.StripPrefix, which
	// would hide the prefix from apps. Behind FastCGI, it stands for the
	// SCRIPT_NAME that net/http/fcgi does not pass on.
	Root string

	// Modules are Go modules apps can require: the name maps to a loader
	// that pushes the module's value (gopher-lua's PreloadModule
	// convention). They are opened in every Lua state.
	Modules map[string]luabridge.Loader

	// ForwardedAllowIPs lists the peers (addresses or CIDR prefixes) whose
	// X-Forwarded-For, -Proto and -Host headers set REMOTE_ADDR,
	// lsgi.url_scheme and SERVER_NAME; from other peers the headers are
	// only seen as HTTP_X_FORWARDED_*. Nil means 127.0.0.1 and ::1; an
	// empty non-nil slice trusts no one.
	ForwardedAllowIPs []string

	// States bounds the Lua states of each app version, hence the
	// requests one app serves at once. The default is twice the number of
	// CPUs, at least 4.
	States int

	// Timeout bounds each request, from the moment it reaches the host to
	// the last byte of its response. The default is 30s.
	Timeout time.Duration

	// MaxStreamTime bounds how far an app may move its request's deadline
	// with lsgi.extend_deadline, counted from the request's start: a
	// server-sent-events stream lives at most this long, and the
	// browser's EventSource then connects again. The default is 5
	// minutes; it is never less than Timeout.
	MaxStreamTime time.Duration

	// QueueTimeout bounds how long a request waits for a free Lua state
	// before it gets 503. The default is 5s.
	QueueTimeout time.Duration

	// MaxBodyBytes bounds request bodies: a larger declared length gets
	// 413 before the app runs, and reading past it raises in Lua. The
	// default is 32 MiB; a negative value means no limit.
	MaxBodyBytes int64

	// Trust opens the whole Lua standard library (io, os, debug) to apps.
	Trust bool

	// Limits bound what one call of a builtin or toolkit function may
	// build or walk (strings, JSON and template data) and the apps' Lua
	// source (size, nesting); zero fields take their defaults
	// (docs/SECURITY.md, "Limits").
	Limits Limits

	// MaxMemory is the memory fence: past this many bytes of Go heap, the
	// host stops the requests running Lua code (503) and discards the Lua
	// states that hold memory, then keeps serving (docs/SECURITY.md, "The
	// memory fence"). Zero means [DefaultMaxMemory], a third of what the
	// process may use; a negative value turns the fence off. The Go soft
	// memory limit is lowered to nine tenths of it.
	MaxMemory int64

	// StateMaxRequests, if positive, replaces a Lua state once it has
	// served this many requests (gunicorn's max_requests), so that what
	// an app leaks into a state stays bounded. Zero means never.
	StateMaxRequests int

	// StateMaxRequestsJitter adds a random 0 to N requests to each
	// state's StateMaxRequests, so that states are not all replaced at
	// once.
	StateMaxRequestsJitter int

	// Logger receives the host's logs and the apps' print and lsgi.errors
	// output. The default is slog.Default().
	Logger *slog.Logger

	// Dev is development mode, for loopback clients (REMOTE_ADDR
	// 127.0.0.0/8 or ::1, after trusted proxies) only:
	//
	//   - an app that failed to load, raised an error, broke the LSGI
	//     contract or timed out answers with an error page (JSON for
	//     clients that prefer it) showing the message, the app's frames
	//     and the source around each, instead of a bare 500 (or its
	//     previous version); the toolkit's error middleware shows the
	//     same page;
	//   - HTML responses to requests that ask for HTML (Accept: text/html,
	//     a browser loading a page) carry a small script that reloads the
	//     page when its app changes, fed by an event stream at
	//     Root+"/.lsgi/events?app=NAME" (see [Handler.CloseStreams]);
	//   - "/" lists the mounted apps when no index.lua takes it, and a
	//     path no app serves gets that list with a note saying why (and a
	//     log line).
	//
	// Other clients get what they get without Dev.
	Dev bool

	// Validate wraps every app in lsgi.validator, which checks both sides
	// of the LSGI contract at run time and raises on the first breach, as
	// Python's wsgiref.validate does.
	Validate bool

	// Services are the resources behind the toolkit's data modules,
	// shared by every app and kept across reloads. Nil means a fresh
	// zero Services owned by nobody; whoever creates one closes it after
	// the handler.
	Services *lualib.Services

	// AccessLog, if set, receives one line per request, in
	// AccessLogFormat.
	AccessLog io.Writer

	// AccessLogFormat is the format of the access log's lines: "" for
	// the common log format followed by the duration in seconds,
	// "common" or "combined" for those formats ([AccessLogCommon],
	// [AccessLogCombined]), or a format in gunicorn's access_log_format
	// atoms: %(h)s remote address, %(l)s "-", %(u)s user, %(t)s time,
	// %(r)s request line, %(m)s method, %(U)s path, %(q)s query, %(H)s
	// protocol, %(s)s status, %(B)s body bytes, %(b)s body bytes or "-",
	// %(f)s referrer, %(a)s user agent, %(T)s, %(M)s, %(D)s and %(L)s the
	// duration in seconds, milliseconds, microseconds and decimal
	// seconds, %(p)s process id, %({name}i)s and %({name}o)s a request
	// and a response header, %({name}e)s an environ variable
	// (%({lsgi.request_id}e)s, or %({x-request-id}o)s, is the request's
	// id); %% is a percent sign.
	AccessLogFormat string

	// SendRequestID adds an X-Request-Id field with the request's id to
	// every response. The id (lsgi.request_id in the environ, and in the
	// host's logs of the request) is a trusted proxy's X-Request-Id (see
	// ForwardedAllowIPs), else one the host makes.
	SendRequestID bool

	// Metrics counts each app's requests (statuses, durations, queue
	// waits, errors) for [Handler.Status] and package host/metrics. Off,
	// the request cycle counts nothing.
	Metrics bool

	// BeforeLoad, if set, is called by [New] with the handler before the
	// apps first load, so that a program can serve health and status
	// ([Handler.AdminHandler]) while they do. Until New returns, the
	// handler serves only the apps loaded so far and [Handler.Ready]
	// reports false.
	BeforeLoad func(*Handler)
}

func (c Config) withDefaults() Config {
	if c.Plugins == nil {
		c.Plugins = []PluginSource{Folder{Path: "plugins"}}
	}
	if c.States <= 0 {
		c.States = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxStreamTime <= 0 {
		c.MaxStreamTime = 5 * time.Minute
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = 5 * time.Second
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxMemory == 0 {
		c.MaxMemory, _ = DefaultMaxMemory()
	}
	if c.Services == nil {
		c.Services = &lualib.Services{}
	}
	return c
}

// Limits bound what one call of a builtin or toolkit function may build or
// walk: the longest string, the nodes and depth of converted data, the
// steps of one pattern match; and the apps' Lua source: its size and
// nesting (docs/SECURITY.md, "Limits"). It is
// [luabridge.Limits], named here so that embedders and the lsgi command
// set limits without importing the bridge.
type Limits = luabridge.Limits
