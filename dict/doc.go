// Package dict is the store behind lsgi.shared: named dictionaries of
// strings, numbers and booleans that every Lua state of every app version
// shares, with the semantics of OpenResty's ngx.shared.DICT (get, set with a
// time to live, add, replace, atomic incr with an initial value, delete,
// ttl, expire, flush_all, get_keys), a size cap per dictionary and LRU
// eviction at the cap.
//
// It is pure Go: the Lua binding lives in luabridge/lualib (shared.go).
//
// # Backends
//
// A [Store] holds the dictionaries. Two implement it:
//
//   - [Memory]: in the host's memory (the default of lsgi serve). Each
//     dictionary is a set of shards, each a map and an LRU list under its
//     own lock, with one byte budget for the whole dictionary. Data
//     survives app reloads, not host restarts.
//   - [Redis]: in a Redis server (lsgi serve --shared redis://HOST:PORT/N),
//     so that several hosts share the same dictionaries. Incr and the
//     expire of a key without a TTL are Lua scripts, add is SET NX and
//     replace SET XX, so every operation is atomic in Redis. The size of a
//     dictionary only bounds the size of one item; eviction is Redis's own
//     maxmemory-policy (allkeys-lru gives OpenResty's behaviour).
//
// # Names
//
// Dictionaries live in namespaces: [AppNamespace] keeps one app's
// dictionaries apart from another's, [GlobalNamespace] holds the
// dictionaries the operator declares for every app. A dictionary name is
// 1 to 64 letters, digits, '_', '-' and '.'; a key is any non-empty string
// of at most [MaxKeyLen] bytes.
//
// # Sizes
//
// Each item counts its key, its value (a number or a boolean counts 8
// bytes) and [ItemOverhead] bytes of bookkeeping against its dictionary's
// size. An item larger than the whole dictionary is refused with
// [ErrTooLarge]; otherwise the least recently used items make room for it.
//
// # Thread safety
//
// Stores and dictionaries are safe for concurrent use. Every operation is
// atomic: two incr calls on one key from two goroutines (or two hosts
// sharing a Redis) never lose an increment.
package dict
