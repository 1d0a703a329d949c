// Package host serves LSGI applications: Lua web apps dropped into a
// plugins folder, each mounted at its own path prefix.
//
// The product is one request cycle, [Handler], built by [New], reachable
// through two seams:
//
//   - [Handler.ServeHTTP]: the Handler is an [http.Handler], for every
//     net/http front end. Package transport serves any http.Handler over
//     HTTP, CGI and FastCGI, in the manner of net/http/cgi and
//     net/http/fcgi, so a ServeMux that mixes Go handlers and LSGI apps
//     goes out over any of them.
//   - [Handler.ServeRequest]: the lower seam, with no net/http type on
//     its path, for an HTTP engine that is not net/http. A [Request] (the
//     request described field by field, a body reader) goes in; status,
//     header fields and body chunks come out through a [ResponseWriter].
//
// What a front end knows that the request does not say (server name and
// port, REMOTE_USER, run-once) is an [environ.Gateway]: [Request.Gateway]
// on the lower seam, attached with environ.WithGateway for ServeHTTP.
//
// # Plugins
//
// [Config.Plugins] lists where the apps come from, each a [PluginSource]:
// a [Folder] on disk (optionally watched), a [FolderFS] inside an fs.FS, or
// a single [App]. In a plugins folder, NAME.lua is mounted at /NAME,
// NAME/init.lua at /NAME (with NAME/ as its module folder) and index.lua
// at /. The longest mount prefix on a segment boundary wins: /hello/x/y
// goes to /hello with SCRIPT_NAME "/hello" and PATH_INFO "/x/y". Hidden
// files and editor leftovers (.*, *~, *.swp, 4913) are ignored. A plugin
// that fails to load is logged with its file and line, and its mount
// answers 500 until it is fixed.
//
// # Loading and reloading
//
// Every change comes through one door, whatever its trigger: the first
// load in New, a [Folder]'s watcher, [Handler.Reload] (lsgi serve calls it
// on SIGHUP). Behind it, in Caddy's order:
//
//  1. Scan the sources for what they hold now; unmount what went away.
//  2. Build each new version outside any lock, a few at a time: compile
//     it, open its first Lua state, run its main chunk. A slow main chunk
//     delays only its own plugin.
//  3. Swap a version that loaded in with one atomic store; a version that
//     failed never replaces one that works.
//  4. Retire the replaced version: requests that hold one of its states
//     finish on it, and its states close as they come back.
//
// A save that changes nothing loads nothing; going back to the files that
// serve (an undo after a broken save) clears the failure and logs
// "app restored". Only a plugin's code (its .lua files, config.json and
// migrations/*.sql) makes a new version: an edit to a template or a static
// file keeps the version and its state, and templates are parsed again on
// their next use. Every outcome is an [Event], which [Handler.Subscribe]
// hands out.
//
// # Development mode
//
// Under [Config.Dev], loopback clients get an error page (package devmode)
// for every error an app makes, HTML pages that reload themselves when
// their app changes, and the list of apps at "/"; see [Config.Dev].
//
// # Requests
//
// Each app version has a bounded pool of Lua states (luabridge.Pool). A
// request waits up to [Config.QueueTimeout] for a free state and otherwise
// gets 503 with Retry-After. It runs under a deadline ([Config.Timeout]);
// past it, the app is interrupted and the client gets 504, or an aborted
// connection if part of the response was already sent. An app error before
// the headers went out gives a generic 500 and a log entry with the Lua
// traceback; after that, the response is aborted ([ErrAborted]) so that the
// client never mistakes a truncated body for a complete one.
//
// # Operations
//
// With [Config.Metrics] each app's requests are counted (statuses,
// durations, queue waits, timeouts, errors) in atomic counters that hang
// off the app, found by the mount lookup, so counting takes no lock and no
// allocation; without it nothing is counted. [Handler.Status] is a
// snapshot of the apps, their loads and their counts; package
// host/metrics exports it to Prometheus, and [Handler.AdminHandler] serves
// it as a status page beside /healthz and /readyz ([Handler.Ready]).
// Every request has an id, a trusted proxy's X-Request-Id or one made
// here: lsgi.request_id in the environ, request_id in the host's log
// records about the request, and the X-Request-Id response field with
// [Config.SendRequestID]. [Config.AccessLogFormat] takes gunicorn's
// access log formats. The first load logs its progress and one summary
// line.
//
// # Thread safety
//
// A Handler is safe for concurrent use. [Handler.Shutdown] (or
// [Handler.Close]) releases its Lua states and background goroutines; call
// it once the server has stopped.
package host
