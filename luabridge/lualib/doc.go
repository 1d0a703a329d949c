// Package lualib is the Lua-side toolkit of LSGI: the modules that every
// plugin can require to write short, correct LSGI apps.
//
// LSGI is the Lua counterpart of Python's WSGI (PEP 3333, with "wsgi."
// renamed "lsgi."; docs/SPEC.md). The modules here play the part that
// wsgiref.util, wsgiref.validate and Werkzeug play for WSGI: request and
// response objects, a router, middleware, a validator, templates and JSON.
//
// # Modules
//
// [Shared.Preload] registers these names in a state's package.preload, so
// that `require "lsgi.router"` and so on work. Each one is documented in
// docs/modules/ and in the header comment of its source.
//
//   - lsgi.request: a Request object over environ (query args, headers,
//     cookies, bounded body, forms with file uploads, JSON, URLs).
//   - lsgi.response: a Response object that is itself an LSGI app.
//   - lsgi.router: routing by method and path pattern, 404, 405 and mounts.
//   - lsgi.middleware.errors, lsgi.middleware.headers,
//     lsgi.middleware.static, lsgi.middleware.gzip: middleware, each a
//     function taking an app and returning an app.
//   - lsgi.validator: a lint middleware in the spirit of wsgiref.validate.
//   - lsgi.template: Go html/template rendering with data from Lua tables.
//   - lsgi.json (also "json", unless the app has a json.lua of its own):
//     JSON encoding and decoding with a json.null sentinel.
//   - lsgi.html: HTML escaping.
//   - lsgi.util: URL, query string, cookie and path helpers in the manner
//     of wsgiref.util.
//   - lsgi.body: helpers to consume an LSGI result (for middleware authors).
//   - lsgi.shared: dictionaries shared by every state of an app, with
//     OpenResty's ngx.shared.DICT API, over package dict (memory or Redis).
//   - lsgi.session: server-side sessions in signed cookies, CSRF tokens.
//   - lsgi.config: allowed environment variables, the app's config.json,
//     keys derived from the host's secret.
//   - lsgi.crypto: SHA-256, HMAC-SHA256, constant-time compare, random
//     tokens, base64 and hex.
//   - lsgi.wsapi: runs a WSAPI app (run(wsapi_env) returning status,
//     headers and a body iterator) as an LSGI app, with WSAPI's
//     environment conventions.
//   - lsgi.db: SQL on the app's own database (package appdb), reached
//     through [Services].
//   - lsgi.http: outbound HTTP within the host's destination policy
//     (package outbound), reached through [Services].
//
// Preload also adds a searcher at the end of package.loaders for two
// stand-ins that pure-Lua libraries expect to find installed: lfs (the
// reading part of LuaFileSystem, over the app's folder only) and coxpcall
// (pcall and xpcall that a coroutine can yield through). Being last, they
// are found only when the app brings no module of that name.
//
// String-heavy work (escaping, templates, query and multipart parsing, JSON,
// gzip, static files) runs in Go: gopher-lua's string operations are several
// times slower than the equivalent Go code.
//
// # Wiring
//
// The host calls [NewShared] once per app version, [Shared.Preload] once per
// Lua state of that version, and [Validate] to wrap an app in lsgi.validator
// under `lsgi serve --dev`. The data modules reach the host-wide
// [Services] (the dictionaries' store, the secret, the allowed environment)
// given in [Options], which outlive app versions. The Lua states are opened
// with the safe standard library only (luabridge.OpenLibs); no module here
// needs more. The functions that build strings or convert data are bounded
// by the luabridge.Limits of [Options].
//
// # Thread safety
//
// A [Shared] is safe for concurrent use by every state of an app version:
// it holds the parsed-template cache and the static files' content-hash
// cache behind locks. Everything installed in a Lua state belongs to that
// state and follows gopher-lua's rule of one goroutine at a time.
package lualib
