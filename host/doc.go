// Package host serves LSGI applications: Lua web apps dropped into a
// plugins folder, each mounted at its own path prefix.
//
// The product is one [http.Handler], [Handler], built by [New]. Every
// transport is an adapter around it, in the manner of Go's net/http/cgi and
// net/http/fcgi: an [http.Server] for HTTP (see [NewHTTPServer]), and the
// CGI and FastCGI front ends built on the same handler.
//
// # Plugins
//
// In the plugins folder, NAME.lua is mounted at /NAME, NAME/init.lua at
// /NAME (with NAME/ as its module folder) and index.lua at /. The longest
// mount prefix on a segment boundary wins: /hello/x/y goes to /hello with
// SCRIPT_NAME "/hello" and PATH_INFO "/x/y". Hidden files and editor
// leftovers (.*, *~, *.swp, 4913) are ignored. A plugin that fails to load is
// logged with its file and line, and its mount answers 500 until it is fixed.
//
// # Requests
//
// Each app version has a bounded pool of Lua states (luabridge.Pool). A
// request waits up to [Config.QueueTimeout] for a free state and otherwise
// gets 503 with Retry-After. It runs under a deadline ([Config.Timeout]);
// past it, the app is interrupted and the client gets 504, or an aborted
// connection if part of the response was already sent. An app error before
// the headers went out gives a generic 500 and a log entry with the Lua
// traceback; after that, the connection is aborted so that the client never
// mistakes a truncated body for a complete one.
//
// # Thread safety
//
// A Handler is safe for concurrent use. [Handler.Close] releases its Lua
// states and background goroutines; call it once the server has stopped.
package host
