package lualib

// This file implements lsgi.shared, the Lua face of package dict: the
// app's dictionaries as OpenResty's ngx.shared.DICT objects.
//
//   local shared = require "lsgi.shared"
//   local hits = shared.hits                  -- the app's dictionary "hits"
//   shared.declare("cache", {size = "10m"})   -- one with its own size
//   local s = shared.global.sessions          -- a host-wide one (--shared-dict)
//   hits:incr("n", 1, 0)
//
// Return values follow OpenResty's; what OpenResty reports as "no memory"
// for set, add, replace and incr (only a Redis without room can cause it
// here), an item larger than the dictionary, bad arguments and a store that
// fails (Redis gone, the request's deadline) raise Lua errors.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lsgi/lsgi/dict"
	lua "github.com/yuin/gopher-lua"
)

// sharedDictType names the metatable of dictionary objects.
const sharedDictType = "lsgi.shared.dict"

// maxSeconds bounds exptime and init_ttl (about 31 years), well within a
// time.Duration.
const maxSeconds = 1_000_000_000

// defaultKeysMax is get_keys's default bound, as in OpenResty.
const defaultKeysMax = 1024

// luaDict is the value of a dictionary object.
type luaDict struct {
	d     dict.Dict
	label string // "hits", or "global.hits"
}

func (s *Shared) openShared(L *lua.LState) int {
	mod := L.NewTable()
	global := L.NewTable()
	// Dictionaries named like the module's fields are cached apart.
	reserved := L.NewTable()
	mod.RawSetString("declare", L.NewFunction(func(L *lua.LState) int {
		name := checkLString(L, 1)
		var size int64
		if opts := L.OptTable(2, nil); opts != nil {
			size = sharedSize(L, opts.RawGetString("size"))
		}
		ud := s.openDict(L, dict.AppNamespace(s.app), name, name, size)
		dictCache(mod, reserved, name).RawSetString(name, ud)
		L.Push(ud)
		return 1
	}))
	mod.RawSetString("dict", L.NewFunction(func(L *lua.LState) int {
		name := checkLString(L, 1)
		L.Push(s.appDict(L, dictCache(mod, reserved, name), name))
		return 1
	}))
	mod.RawSetString("global", global)
	L.SetMetatable(mod, L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"__index": func(L *lua.LState) int {
			name, ok := L.Get(2).(lua.LString)
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(s.appDict(L, mod, string(name)))
			return 1
		},
	}))
	L.SetMetatable(global, L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"__index": func(L *lua.LState) int {
			name, ok := L.Get(2).(lua.LString)
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			size, declared := s.services.SharedDicts[string(name)]
			if !declared {
				L.RaiseError("lsgi.shared: no host-wide dictionary %q: the operator declares them with lsgi serve --shared-dict %s:SIZE", string(name), string(name))
			}
			ud := s.openDict(L, dict.GlobalNamespace, string(name), "global."+string(name), size)
			global.RawSetString(string(name), ud)
			L.Push(ud)
			return 1
		},
	}))
	L.Push(mod)
	return 1
}

// dictCache returns the table that caches the object of dictionary name:
// the module table itself, so that shared.hits costs a table read, except
// for the names of the module's own fields.
func dictCache(mod, reserved *lua.LTable, name string) *lua.LTable {
	switch name {
	case "declare", "dict", "global":
		return reserved
	}
	return mod
}

// appDict returns the object of the app's dictionary name, cached in cache.
func (s *Shared) appDict(L *lua.LState, cache *lua.LTable, name string) lua.LValue {
	if ud, ok := cache.RawGetString(name).(*lua.LUserData); ok {
		return ud
	}
	ud := s.openDict(L, dict.AppNamespace(s.app), name, name, 0)
	cache.RawSetString(name, ud)
	return ud
}

// openDict opens a dictionary and returns its Lua object.
func (s *Shared) openDict(L *lua.LState, ns, name, label string, size int64) *lua.LUserData {
	d, err := s.services.store().Open(ns, name, size)
	if err != nil {
		L.RaiseError("lsgi.shared: dictionary %q: %s", name, err.Error())
	}
	ud := L.NewUserData()
	ud.Value = &luaDict{d: d, label: label}
	ud.Metatable = sharedDictMeta(L)
	return ud
}

// sharedSize reads a declared size: a number of bytes or a string such as
// "10m".
func sharedSize(L *lua.LState, v lua.LValue) int64 {
	switch v := v.(type) {
	case *lua.LNilType:
		return 0
	case lua.LNumber:
		if v >= dict.MinSize && float64(v) == math.Trunc(float64(v)) && v < 1<<62 {
			return int64(v)
		}
	case lua.LString:
		if n, err := dict.ParseSize(string(v)); err == nil && n >= dict.MinSize {
			return n
		}
	}
	L.RaiseError("lsgi.shared: size must be a number of bytes of at least %d, or a string such as \"512k\" or \"10m\", not %s",
		dict.MinSize, safeToString(L, v))
	return 0
}

// sharedDictMeta returns the state's metatable of dictionary objects.
func sharedDictMeta(L *lua.LState) *lua.LTable {
	mt := L.NewTypeMetatable(sharedDictType)
	if mt.RawGetString("__index") == lua.LNil {
		L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"get":           sharedGet,
			"set":           sharedStore(dict.OpSet),
			"safe_set":      sharedStore(dict.OpSafeSet),
			"add":           sharedStore(dict.OpAdd),
			"safe_add":      sharedStore(dict.OpSafeAdd),
			"replace":       sharedStore(dict.OpReplace),
			"incr":          sharedIncr,
			"delete":        sharedDelete,
			"ttl":           sharedTTL,
			"expire":        sharedExpire,
			"flush_all":     sharedFlushAll,
			"flush_expired": sharedFlushExpired,
			"get_keys":      sharedGetKeys,
			"capacity":      sharedCapacity,
		}))
		L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LString("lsgi.shared dictionary " + checkDict(L, "tostring").label))
			return 1
		}))
		L.SetField(mt, "__metatable", lua.LString(sharedDictType))
	}
	return mt
}

// checkDict returns the dictionary the method was called on.
func checkDict(L *lua.LState, method string) *luaDict {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if d, ok := ud.Value.(*luaDict); ok {
			return d
		}
	}
	L.RaiseError("lsgi.shared: %s must be called with a colon, as in dict:%s(...)", method, method)
	return nil
}

// luaContext returns the context of the state's request (its deadline),
// or the background context outside of one.
func luaContext(L *lua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// sharedKey reads the key at argument 2: a string, or a number as its text.
func sharedKey(L *lua.LState, d *luaDict, method string) string {
	var key string
	switch v := L.Get(2).(type) {
	case lua.LString:
		key = string(v)
	case lua.LNumber:
		key = v.String()
	default:
		L.RaiseError("lsgi.shared: %s:%s: the key must be a string or a number, not %s", d.label, method, L.Get(2).Type())
	}
	if key == "" {
		L.RaiseError("lsgi.shared: %s:%s: the key is empty", d.label, method)
	}
	if len(key) > dict.MaxKeyLen {
		L.RaiseError("lsgi.shared: %s:%s: the key has %d bytes, more than %d", d.label, method, len(key), dict.MaxKeyLen)
	}
	return key
}

// sharedSeconds reads an optional time in seconds (exptime, init_ttl).
func sharedSeconds(L *lua.LState, d *luaDict, method string, n int, what string) time.Duration {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return 0
	case lua.LNumber:
		if v >= 0 && v <= maxSeconds {
			return time.Duration(float64(v) * float64(time.Second))
		}
	}
	L.RaiseError("lsgi.shared: %s:%s: %s must be a number of seconds from 0 (never expires) to %d, not %s",
		d.label, method, what, maxSeconds, safeToString(L, L.Get(n)))
	return 0
}

// sharedFail raises the Lua error of a failed operation.
func sharedFail(L *lua.LState, d *luaDict, method, key string, err error) {
	var msg string
	switch {
	case errors.Is(err, dict.ErrTooLarge):
		msg = fmt.Sprintf("%s; declare a larger size: require(\"lsgi.shared\").declare(%q, {size = \"...\"})", err.Error(), d.d.Name())
	case errors.Is(err, dict.ErrNoMemory):
		msg = "no memory: " + err.Error()
	default:
		msg = err.Error()
	}
	L.RaiseError("lsgi.shared: %s:%s(%.64q): %s", d.label, method, key, msg)
}

func valueToLua(v dict.Value) lua.LValue {
	switch v.Kind {
	case dict.String:
		return lua.LString(v.Str)
	case dict.Number:
		return lua.LNumber(v.Num)
	case dict.Bool:
		return lua.LBool(v.Bool())
	}
	return lua.LNil
}

// sharedGet: dict:get(key) -> value [, flags] | nil. The flags come only
// when they are not 0, as in OpenResty.
func sharedGet(L *lua.LState) int {
	d := checkDict(L, "get")
	key := sharedKey(L, d, "get")
	it, ok, err := d.d.Get(luaContext(L), key)
	if err != nil {
		sharedFail(L, d, "get", key, err)
	}
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(valueToLua(it.Value))
	if it.Flags != 0 {
		L.Push(lua.LNumber(it.Flags))
		return 2
	}
	return 1
}

// sharedStore returns set, safe_set, add, safe_add or replace:
// dict:op(key, value [, exptime [, flags]]).
func sharedStore(op dict.Op) lua.LGFunction {
	method := op.String()
	return func(L *lua.LState) int {
		d := checkDict(L, method)
		key := sharedKey(L, d, method)
		var v dict.Value
		switch lv := L.Get(3).(type) {
		case lua.LString:
			v = dict.StringValue(string(lv))
		case lua.LNumber:
			v = dict.NumberValue(float64(lv))
		case lua.LBool:
			v = dict.BoolValue(bool(lv))
		case *lua.LNilType:
			if op == dict.OpSet || op == dict.OpSafeSet {
				// set(key, nil) deletes, as in OpenResty.
				if err := d.d.Delete(luaContext(L), key); err != nil {
					sharedFail(L, d, method, key, err)
				}
				return pushStored(L, op, nil, false)
			}
			L.RaiseError("lsgi.shared: %s:%s: the value is nil", d.label, method)
		default:
			L.RaiseError("lsgi.shared: %s:%s: a value is a string, a number or a boolean, not a %s (encode tables with json.encode)",
				d.label, method, lv.Type())
		}
		if v.Kind == dict.Number && (math.IsNaN(v.Num) || math.IsInf(v.Num, 0)) {
			L.RaiseError("lsgi.shared: %s:%s: the number %s is not finite", d.label, method, L.Get(3).String())
		}
		ttl := sharedSeconds(L, d, method, 4, "exptime")
		var flags uint32
		if f, ok := L.Get(5).(lua.LNumber); ok && f >= 0 && f <= math.MaxUint32 && float64(f) == math.Trunc(float64(f)) {
			flags = uint32(f)
		} else if L.Get(5) != lua.LNil {
			L.RaiseError("lsgi.shared: %s:%s: flags must be an integer from 0 to 4294967295", d.label, method)
		}
		forcible, err := d.d.Store(luaContext(L), op, key, dict.Item{Value: v, Flags: flags}, ttl)
		switch {
		case err == nil, errors.Is(err, dict.ErrExists), errors.Is(err, dict.ErrNotFound),
			errors.Is(err, dict.ErrNoMemory) && (op == dict.OpSafeSet || op == dict.OpSafeAdd):
			return pushStored(L, op, err, forcible)
		}
		sharedFail(L, d, method, key, err)
		return 0
	}
}

// pushStored pushes OpenResty's results of a write: true, nil, forcible;
// false, "exists" | "not found", false; safe_set and safe_add give true or
// nil, "exists" | "no memory".
func pushStored(L *lua.LState, op dict.Op, err error, forcible bool) int {
	safe := op == dict.OpSafeSet || op == dict.OpSafeAdd
	if err == nil {
		L.Push(lua.LTrue)
		if safe {
			return 1
		}
		L.Push(lua.LNil)
		L.Push(lua.LBool(forcible))
		return 3
	}
	if safe {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LFalse)
	}
	L.Push(lua.LString(openRestyError(err)))
	if safe {
		return 2
	}
	L.Push(lua.LFalse)
	return 3
}

// openRestyError returns OpenResty's text for a sentinel error.
func openRestyError(err error) string {
	switch {
	case errors.Is(err, dict.ErrExists):
		return "exists"
	case errors.Is(err, dict.ErrNotFound):
		return "not found"
	case errors.Is(err, dict.ErrNotNumber):
		return "not a number"
	case errors.Is(err, dict.ErrNoMemory):
		return "no memory"
	}
	return err.Error()
}

// sharedIncr: dict:incr(key, value [, init [, init_ttl]]) -> newval, nil,
// forcible | nil, "not found" | nil, "not a number".
func sharedIncr(L *lua.LState) int {
	d := checkDict(L, "incr")
	key := sharedKey(L, d, "incr")
	delta, ok := L.Get(3).(lua.LNumber)
	if !ok {
		L.RaiseError("lsgi.shared: %s:incr: the value to add must be a number, not %s", d.label, L.Get(3).Type())
	}
	var init *float64
	switch v := L.Get(4).(type) {
	case lua.LNumber:
		f := float64(v)
		init = &f
	case *lua.LNilType:
		if L.Get(5) != lua.LNil {
			L.RaiseError("lsgi.shared: %s:incr: init_ttl needs init", d.label)
		}
	default:
		L.RaiseError("lsgi.shared: %s:incr: init must be a number, not %s", d.label, v.Type())
	}
	initTTL := sharedSeconds(L, d, "incr", 5, "init_ttl")
	n, forcible, err := d.d.Incr(luaContext(L), key, float64(delta), init, initTTL)
	switch {
	case err == nil:
		L.Push(lua.LNumber(n))
		L.Push(lua.LNil)
		L.Push(lua.LBool(forcible))
		return 3
	case errors.Is(err, dict.ErrNotFound), errors.Is(err, dict.ErrNotNumber):
		L.Push(lua.LNil)
		L.Push(lua.LString(openRestyError(err)))
		return 2
	}
	sharedFail(L, d, "incr", key, err)
	return 0
}

// sharedDelete: dict:delete(key).
func sharedDelete(L *lua.LState) int {
	d := checkDict(L, "delete")
	key := sharedKey(L, d, "delete")
	if err := d.d.Delete(luaContext(L), key); err != nil {
		sharedFail(L, d, "delete", key, err)
	}
	return 0
}

// sharedTTL: dict:ttl(key) -> seconds left (0: never expires) | nil,
// "not found".
func sharedTTL(L *lua.LState) int {
	d := checkDict(L, "ttl")
	key := sharedKey(L, d, "ttl")
	ttl, err := d.d.TTL(luaContext(L), key)
	if errors.Is(err, dict.ErrNotFound) {
		L.Push(lua.LNil)
		L.Push(lua.LString("not found"))
		return 2
	}
	if err != nil {
		sharedFail(L, d, "ttl", key, err)
	}
	// OpenResty's resolution: milliseconds.
	L.Push(lua.LNumber(float64(ttl.Milliseconds()) / 1000))
	return 1
}

// sharedExpire: dict:expire(key, exptime) -> true | nil, "not found".
func sharedExpire(L *lua.LState) int {
	d := checkDict(L, "expire")
	key := sharedKey(L, d, "expire")
	if L.Get(3) == lua.LNil {
		L.RaiseError("lsgi.shared: %s:expire: exptime is missing (0: never expires)", d.label)
	}
	ttl := sharedSeconds(L, d, "expire", 3, "exptime")
	err := d.d.Expire(luaContext(L), key, ttl)
	if errors.Is(err, dict.ErrNotFound) {
		L.Push(lua.LNil)
		L.Push(lua.LString("not found"))
		return 2
	}
	if err != nil {
		sharedFail(L, d, "expire", key, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// sharedCount reads an optional count at argument n.
func sharedCount(L *lua.LState, d *luaDict, method string, n, def int) int {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		if v >= 0 && float64(v) == math.Trunc(float64(v)) && v <= math.MaxInt32 {
			return int(v)
		}
	}
	L.RaiseError("lsgi.shared: %s:%s: the count must be a whole number, 0 or more (0: all)", d.label, method)
	return 0
}

// sharedFlushAll: dict:flush_all().
func sharedFlushAll(L *lua.LState) int {
	d := checkDict(L, "flush_all")
	if err := d.d.FlushAll(luaContext(L)); err != nil {
		L.RaiseError("lsgi.shared: %s:flush_all: %s", d.label, err.Error())
	}
	return 0
}

// sharedFlushExpired: dict:flush_expired([max]) -> how many were removed.
func sharedFlushExpired(L *lua.LState) int {
	d := checkDict(L, "flush_expired")
	n, err := d.d.FlushExpired(luaContext(L), sharedCount(L, d, "flush_expired", 2, 0))
	if err != nil {
		L.RaiseError("lsgi.shared: %s:flush_expired: %s", d.label, err.Error())
	}
	L.Push(lua.LNumber(n))
	return 1
}

// sharedGetKeys: dict:get_keys([max]) -> array of keys; at most 1024 by
// default, every one with 0.
func sharedGetKeys(L *lua.LState) int {
	d := checkDict(L, "get_keys")
	keys, err := d.d.Keys(luaContext(L), sharedCount(L, d, "get_keys", 2, defaultKeysMax))
	if err != nil {
		L.RaiseError("lsgi.shared: %s:get_keys: %s", d.label, err.Error())
	}
	t := L.CreateTable(len(keys), 0)
	for _, k := range keys {
		t.Append(lua.LString(k))
	}
	L.Push(t)
	return 1
}

// sharedCapacity: dict:capacity() -> the dictionary's size in bytes.
func sharedCapacity(L *lua.LState) int {
	L.Push(lua.LNumber(checkDict(L, "capacity").d.Size()))
	return 1
}
