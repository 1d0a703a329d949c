// Package appdb gives each LSGI app a SQL database of its own: an embedded
// SQLite file by default, or a schema of a shared PostgreSQL database. It is
// the Go side of the Lua module lsgi.db (docs/modules/db.md) and knows
// nothing of Lua.
//
// # Backends
//
// With an empty [Config.URL], each app gets the SQLite database
// DataDir/NAME.db (modernc.org/sqlite, pure Go), opened on first use in WAL
// mode with a busy timeout. One *sql.DB per app serves every Lua state and
// every version of the app. SQLite lets one connection write at a time, so
// the package also serialises an app's writers itself, before they reach
// SQLite: a statement that may write, and every transaction, first takes
// the app's write lock, waiting no longer than its context allows.
// Transactions begin with BEGIN IMMEDIATE, so a transaction that reads and
// then writes never fails on the upgrade. Readers never wait for writers
// (WAL).
//
// With a postgres:// URL, every app shares one connection pool; each app
// has its own schema, app_NAME, created on first use. A connection's
// search_path is set to the app's schema when an app takes it from the pool
// and it last served another app; its prepared statements are dropped then
// too, since the same text may name other tables in another schema.
//
// # Placeholders
//
// Statements take positional parameters written `?`, on both backends. For
// PostgreSQL each `?` outside string literals, quoted identifiers, comments
// and dollar-quoted strings becomes $1, $2, ...; `??` stands for a literal
// `?` (PostgreSQL's jsonb operator). Parameters are always sent apart from
// the statement's text, never spliced into it.
//
// # Values
//
// Results hold nil (SQL NULL), int64, float64, bool, string and []byte.
// Date and time values come back as text: a DATE as 2006-01-02, others in
// RFC 3339 in UTC. Other PostgreSQL types (numeric, uuid, arrays, ...) come
// back as their text form.
//
// # Limits
//
// A result larger than [Config.MaxRows] rows or [Config.MaxBytes] bytes of
// values is refused with a [*LimitError]: a query that would return a whole
// table fails early instead of filling memory.
//
// # Migrations
//
// [Manager.Migrate] runs an app's migrations/*.sql files, in the order of
// their names, each once, each in a transaction of its own; the table
// lsgi_migrations records the files applied and their SHA-256.
//
// # Thread safety
//
// A [Manager] and the [DB] values it hands out are safe for concurrent use.
// A [Tx] belongs to one goroutine.
package appdb
