// Package outbound is the HTTP client behind the Lua module lsgi.http
// (docs/modules/http.md): requests that apps make to other servers. It
// knows nothing of Lua.
//
// A host that runs other people's plugins must not become a relay into
// the networks behind it (server-side request forgery), so a [Client]
// keeps to a [Policy]: by default it reaches public addresses only, and
// it checks the address of every connection it dials, after DNS and on
// every redirect, in the dialer's Control function; a URL that names a
// public host but resolves to 127.0.0.1 is refused there. It never uses
// a proxy from the environment. docs/SECURITY.md says what the defaults
// protect against.
//
// Every request is bounded: by the caller's context (for lsgi.http, the
// request's deadline), by a timeout, by a cap on the body it reads whole,
// and by a cap on redirects.
//
// # Thread safety
//
// A [Client] is safe for concurrent use; it shares one connection pool
// among its callers. A [Response] belongs to one goroutine.
package outbound
