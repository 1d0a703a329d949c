package lualib

// This file implements lsgi.config: what an app may know of its
// configuration without --trust.
//
//   local config = require "lsgi.config"
//   config.app                     -- the app's name
//   config.env("DATABASE_URL")     -- an environment variable the operator allows
//   config.settings                -- the app's config.json, decoded
//   config.get("smtp.host", "localhost")
//   config.secret("cookies")       -- a key of the app's own, from the host's secret

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/appfs"
	lua "github.com/yuin/gopher-lua"
)

// SettingsFile is the name of an app's settings file, beside its init.lua.
const SettingsFile = "config.json"

// maxSettingsBytes bounds the settings file.
const maxSettingsBytes = 1 << 20

// settingsFile is an app version's settings file, read once.
type settingsFile struct {
	once  sync.Once
	text  string // "" when there is none
	err   error
	found bool
}

func (f *settingsFile) load(fsys fs.FS) (string, bool, error) {
	f.once.Do(func() {
		if fsys == nil {
			return
		}
		b, err := appfs.ReadFile(fsys, SettingsFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			f.err = fmt.Errorf("read %s: %w", SettingsFile, err)
		case len(b) > maxSettingsBytes:
			f.err = fmt.Errorf("%s has %d bytes, more than %d", SettingsFile, len(b), maxSettingsBytes)
		default:
			f.text, f.found = string(b), true
		}
	})
	return f.text, f.found, f.err
}

// CheckEnvPattern returns an error unless p is a variable name, or a
// prefix followed by "*".
func CheckEnvPattern(p string) error {
	name := strings.TrimSuffix(p, "*")
	if name == "" && p != "*" {
		return fmt.Errorf("lualib: empty environment variable name")
	}
	if strings.ContainsAny(name, "=*\x00") {
		return fmt.Errorf("lualib: %q is not a variable name or a PREFIX* pattern", p)
	}
	return nil
}

// envAllowed reports whether name matches one of patterns.
func envAllowed(patterns []string, name string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if p == name {
			return true
		}
	}
	return false
}

// SnapshotEnv returns the variables of environ ("NAME=value" strings, as
// os.Environ gives) whose names match patterns.
func SnapshotEnv(patterns []string, environ []string) map[string]string {
	env := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && name != "" && envAllowed(patterns, name) {
			env[name] = value
		}
	}
	return env
}

func (s *Shared) openConfig(L *lua.LState) int {
	mod := newModule(L, map[string]lua.LGFunction{
		"env":    s.configEnv,
		"secret": s.configSecret,
	})
	mod.RawSetString("get", L.NewFunction(func(L *lua.LState) int { return configGet(L, mod) }))
	mod.RawSetString("app", lua.LString(s.app))
	settings := lua.LValue(L.NewTable())
	text, found, err := s.settings.load(s.fsys)
	if err != nil {
		L.RaiseError("lsgi.config: %s", err.Error())
	}
	if found {
		settings = decodeSettings(L, text)
	}
	mod.RawSetString("settings", settings)
	L.Push(mod)
	return 1
}

// decodeSettings decodes the settings file with the state's json module.
func decodeSettings(L *lua.LState, text string) lua.LValue {
	L.Push(L.GetGlobal("require"))
	L.Push(lua.LString(ModJSON))
	if err := luabridge.PCall(L, 1, 1, nil); err != nil {
		L.RaiseError("lsgi.config: %s", err.Error())
	}
	decode := L.GetField(L.Get(-1), "decode")
	L.Pop(1)
	L.Push(decode)
	L.Push(lua.LString(text))
	if err := luabridge.PCall(L, 1, 1, nil); err != nil {
		msg := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			msg = ae.Object.String()
		}
		// Drop the position RaiseError gave the message: it is not in the file.
		if i := strings.Index(msg, "json.decode:"); i > 0 {
			msg = msg[i:]
		}
		L.RaiseError("lsgi.config: %s: %s", SettingsFile, msg)
	}
	v := L.Get(-1)
	L.Pop(1)
	if !strings.HasPrefix(strings.TrimLeft(text, " \t\r\n"), "{") {
		L.RaiseError("lsgi.config: %s must hold a JSON object ({...}), not %s", SettingsFile, v.Type())
	}
	return v
}

// configEnv: env(name [, default]) -> the variable's value, or default
// (nil) when it is allowed but unset. A name the operator did not allow
// raises.
func (s *Shared) configEnv(L *lua.LState) int {
	name := checkLString(L, 1)
	def := L.Get(2)
	if v, ok := s.services.Env[name]; ok {
		L.Push(lua.LString(v))
		return 1
	}
	if !envAllowed(s.services.EnvAllow, name) {
		L.RaiseError("lsgi.config: the environment variable %s is not open to apps: start the host with --env %s (or --env PREFIX_* for a family of names)", name, name)
	}
	L.Push(def)
	return 1
}

// configGet: get(path [, default]) -> the setting at the dotted path
// ("smtp.host" is settings.smtp.host), or default when a part of the path
// is absent or JSON null.
func configGet(L *lua.LState, mod *lua.LTable) int {
	path := checkLString(L, 1)
	v := mod.RawGetString("settings")
	for _, part := range strings.Split(path, ".") {
		t, ok := v.(*lua.LTable)
		if !ok {
			v = lua.LNil
			break
		}
		v = t.RawGetString(part)
	}
	if ud, ok := v.(*lua.LUserData); ok {
		if _, null := ud.Value.(jsonNull); null {
			v = lua.LNil
		}
	}
	if v == lua.LNil {
		v = L.Get(2)
	}
	L.Push(v)
	return 1
}

// configSecret: secret(purpose) -> 32 bytes: the app's key for purpose,
// derived from the host's secret. The same app and purpose give the same
// key on every host that shares the secret.
func (s *Shared) configSecret(L *lua.LState) int {
	purpose := checkLString(L, 1)
	if purpose == "" {
		L.ArgError(1, "a purpose (such as \"cookies\") is needed")
	}
	key, err := s.services.appKey(s.app, purpose)
	if err != nil {
		L.RaiseError("lsgi.config: no secret: %s", err.Error())
	}
	L.Push(lua.LString(key))
	return 1
}
