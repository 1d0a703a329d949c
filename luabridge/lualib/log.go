package lualib

// This file is lsgi.log: structured records from Lua into the host's log
// (log/slog), tagged with the app and the request, whose fields are
// attributes of the record, never text of it, so that an app cannot forge
// a record or another field.

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// ModLog is structured logging into the host's log.
const ModLog = "lsgi.log"

// Bounds of one lsgi.log record. A message or a string value longer than
// its bound is cut there (the record says so with truncated=true): a log
// call must not fail because of what a client sent. Breaking the other
// bounds is a mistake in the app's code and raises.
const (
	maxLogMessage = 8 << 10 // bytes of the message
	maxLogValue   = 4 << 10 // bytes of a string value
	maxLogFields  = 32      // fields of one record
	maxLogKey     = 64      // bytes of a field name
)

// logFieldsGroup is the attribute group the app's fields go in, apart from
// the host's own attributes (app, request_id), which they cannot replace.
const logFieldsGroup = "fields"

func (s *Shared) openLog(L *lua.LState) int {
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"debug": s.logAt(slog.LevelDebug),
		"info":  s.logAt(slog.LevelInfo),
		"warn":  s.logAt(slog.LevelWarn),
		"error": s.logAt(slog.LevelError),
	})
	L.Push(mod)
	return 1
}

// logAt returns log.LEVEL(msg [, fields]).
func (s *Shared) logAt(level slog.Level) lua.LGFunction {
	name := "lsgi.log." + map[slog.Level]string{slog.LevelDebug: "debug", slog.LevelInfo: "info", slog.LevelWarn: "warn", slog.LevelError: "error"}[level]
	return func(L *lua.LState) int {
		msg, cut := truncate(L.CheckString(1), maxLogMessage)
		var fields []slog.Attr
		if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
			var truncated bool
			fields, truncated = logFields(L, name, L.CheckTable(2))
			cut = cut || truncated
		}
		ctx := context.Background()
		if !s.logger.Enabled(ctx, level) {
			return 0
		}
		attrs := make([]slog.Attr, 0, 5)
		attrs = append(attrs, slog.String("app", s.app))
		if id := luabridge.RequestID(L); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
		attrs = append(attrs, slog.String("via", ModLog))
		if cut {
			attrs = append(attrs, slog.Bool("truncated", true))
		}
		if len(fields) > 0 {
			attrs = append(attrs, slog.Attr{Key: logFieldsGroup, Value: slog.GroupValue(fields...)})
		}
		s.logger.LogAttrs(ctx, level, msg, attrs...)
		return 0
	}
}

// logFields converts the fields table, sorted by name, and reports
// whether a value was cut.
func logFields(L *lua.LState, fn string, t *lua.LTable) ([]slog.Attr, bool) {
	var attrs []slog.Attr
	cut := false
	t.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok {
			L.ArgError(2, fmt.Sprintf("%s: field names must be strings, got %s %s", fn, k.Type(), k.String()))
		}
		if !validLogKey(string(key)) {
			L.ArgError(2, fmt.Sprintf("%s: field name %q: want 1 to %d letters, digits, '_', '-' or '.'", fn, string(key), maxLogKey))
		}
		if len(attrs) == maxLogFields {
			L.ArgError(2, fmt.Sprintf("%s: more than %d fields", fn, maxLogFields))
		}
		switch v := v.(type) {
		case lua.LString:
			str, c := truncate(string(v), maxLogValue)
			cut = cut || c
			attrs = append(attrs, slog.String(string(key), str))
		case lua.LNumber:
			f := float64(v)
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				attrs = append(attrs, slog.Int64(string(key), int64(f)))
			} else {
				attrs = append(attrs, slog.Float64(string(key), f))
			}
		case lua.LBool:
			attrs = append(attrs, slog.Bool(string(key), bool(v)))
		default:
			L.ArgError(2, fmt.Sprintf("%s: field %q is a %s: want a string, a number or a boolean", fn, string(key), v.Type()))
		}
	})
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
	return attrs, cut
}

func validLogKey(k string) bool {
	if k == "" || len(k) > maxLogKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes, on a UTF-8 boundary when it can.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > n-4 && cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…", true
}
