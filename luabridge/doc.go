// Package luabridge runs LSGI applications written in Lua on gopher-lua.
//
// With its sub-packages lualib (the toolkit's Lua modules) and wire (which
// joins the toolkit to the bridge), it is all of the project that touches
// gopher-lua; the one gopher-lua type other packages see is [Loader], the
// Go module an embedding program gives its apps. It compiles an app's
// source once, keeps a bounded [Pool] of Lua states per app version, turns a
// request's environ variables into a Lua table, implements start_response
// and write, drains the app's result iterator, and calls the result's close
// method. The contract it implements is LSGI 1.0
// (docs/SPEC.md), the Lua counterpart of PEP 3333.
//
// # Request cycle
//
// [State.Serve] runs one request, in the manner of Python's
// wsgiref.handlers.BaseHandler:
//
//  1. Build a fresh environ table from the request's variables.
//  2. Call app(environ, start_response).
//  3. Iterate the result; start_response only stores status and headers, which
//     go out through [ResponseWriter.AddHeader] and [ResponseWriter.Start]
//     just before the first non-empty chunk, or at the end of an empty body.
//  4. Send each chunk through [ResponseWriter.Write], asking for a flush
//     when app code runs before the next one (the writer may hand it to a
//     sender that coalesces, unless the app set lsgi.exact_chunks: see
//     [ExactChunksWriter]).
//  5. Call result:close() exactly once, whatever happened, under a fresh
//     context so that it runs even after a timeout or a disconnect.
//
// The bridge knows nothing of transports: the host adapts every transport
// to the small [ResponseWriter], whose header fields are name/value pairs
// rather than a map of any HTTP library.
//
// # Standard library
//
// [OpenLibs] and [OpenLibsWith] open gopher-lua's libraries and replace
// what differs from Lua 5.1 (tonumber, tostring and number formatting,
// string.format, the table library, unpack, select, debug.getinfo and
// traceback) with our own, remove gopher-lua's debugging helpers, give
// untrusted apps an io that writes to the log and opens nothing, and bound
// every function that builds a string by [Limits]. A state's require
// searches the host's lsgi.* modules, package.preload, the app's folder,
// then the host's other modules; files are read through package appfs, which
// refuses symbolic links that leave the app's folder.
//
// # Lua 5.1 semantics
//
// gopher-lua v1.1.2 computes a few things differently from Lua 5.1, and the
// bridge corrects them without changing gopher-lua, for every state it
// opens ([OpenLibs]):
//
//   - [Compile], the one path from source to a chunk, checks the source
//     against [Limits] before parsing it (gopher-lua's compiler recurses
//     without bound), skips a first line starting with "#", and rewrites
//     the parsed chunk where gopher-lua would compile it wrong (multiple
//     assignment, yuin/gopher-lua#440).
//   - pcall and xpcall close only the upvalues of the functions an error
//     unwinds (yuin/gopher-lua#448); Go code that calls Lua in protected
//     mode on behalf of Lua uses [PCall] for the same reason.
//   - error counts levels as Lua 5.1 does; load and loadstring name chunks
//     as Lua 5.1 does; coroutine.yield refuses to cross a Go call, and
//     resume passes a yield the values it takes.
//
// These fixes read three unexported parts of gopher-lua's state, found by
// name when the package starts; [EngineInternals] reports whether they
// were.
//
// # Thread safety
//
// A [State] belongs to one goroutine at a time: the pool hands it to one
// request and takes it back afterwards. A [Pool] and a [Program] are safe for
// concurrent use. Each state has its own Lua globals, like separate
// processes, which is why environ says lsgi.multithread = false and
// lsgi.multiprocess = true.
package luabridge
