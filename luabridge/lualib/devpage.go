package lualib

// This file gives lsgi.middleware.errors the host's development page, so
// that an error the middleware catches looks like one the host catches.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/lsgi/lsgi/devmode"
	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// nativeDevPage: dev_page(err, traceback, environ) -> body, content_type.
// It renders the development page of an error an app raised (see package
// devmode): the message, the app's frames with the source around each
// (Options.Files), HTML or JSON as the client's Accept prefers. The caller
// has checked that the client may see it.
func (s *Shared) nativeDevPage(L *lua.LState) int {
	msg := safeToString(L, L.Get(1))
	trace := L.OptString(2, "")
	env := L.OptTable(3, L.NewTable())
	field := func(name string) string {
		v, _ := env.RawGetString(name).(lua.LString)
		return string(v)
	}
	page := &devmode.Error{
		Kind: devmode.RuntimeError, App: s.app, Status: http.StatusInternalServerError,
		Method: field("REQUEST_METHOD"), Path: field("SCRIPT_NAME") + field("PATH_INFO"),
		Message: msg, Frames: devmode.ParseTraceback(trace), Source: s.files,
	}
	if strings.Contains(msg, "lsgi.validator:") {
		page.Kind = devmode.ContractError
	}
	if file, line, ok := luabridge.ErrorPosition(errors.New(msg)); ok && !devmode.ToolkitFile(file) {
		page.File, page.Line = file, line
	}
	body, ctype := page.Render(field("HTTP_ACCEPT"))
	L.Push(lua.LString(body))
	L.Push(lua.LString(ctype))
	return 2
}
