// This file is the host's side of the development pages (Config.Dev): it
// describes what went wrong with an app as a devmode.Error, which renders
// it, and decides who may see it.

package host

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/lsgi/lsgi/devmode"
	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/luabridge"
)

// devPrefix is the path, under Root, of what the host serves itself under
// Config.Dev. A plugin cannot be mounted there: hidden names are ignored.
const devPrefix = "/.lsgi/"

// eventsPath is the browser refresh's event stream, under Root.
const eventsPath = devPrefix + "events"

// isLoopback reports whether the request's client (REMOTE_ADDR, after
// trusted proxies) is on this machine: the development pages show source
// and paths, which are not for strangers.
func isLoopback(vars environ.Vars) bool {
	remote, _ := vars.Get("REMOTE_ADDR")
	return environ.IsLoopback(remote)
}

// devError answers a request with the development page of err: the
// plugin's newest load failed (err is its load error), or its app failed
// while serving (an *luabridge.AppError). The caller has checked Config.Dev
// and the client.
func (h *Handler) devError(resp *response, vars environ.Vars, pl *plugin, err error) {
	page := h.devErrorOf(pl, err)
	page.Method, _ = vars.Get("REQUEST_METHOD")
	page.Path = requestPath(vars)
	accept, _ := vars.Get("HTTP_ACCEPT")
	body, ctype := page.Render(accept)
	resp.hostPage(page.Status, ctype, body, "Cache-Control", "no-store")
}

// devErrorOf describes err, an error of pl, for the development pages.
func (h *Handler) devErrorOf(pl *plugin, err error) *devmode.Error {
	page := &devmode.Error{
		Kind: devmode.LoadError, App: pl.name, Status: http.StatusInternalServerError,
		Message: err.Error(), Source: pl.files.source, Reload: h.reload(pl.name),
	}
	var appErr *luabridge.AppError
	if errors.As(err, &appErr) {
		page.Kind, page.Message = runtimeKind(appErr), appErr.Err.Error()
		if appErr.Timeout {
			page.Status = http.StatusGatewayTimeout
		}
	}
	var luaErr *luabridge.LuaError
	if errors.As(err, &luaErr) {
		page.Message = luaErr.Message
		page.Frames = devmode.ParseTraceback(luaErr.Traceback)
	}
	if file, line, ok := luabridge.ErrorPosition(err); ok && !devmode.ToolkitFile(file) {
		page.File, page.Line = file, line
	}
	return page
}

// runtimeKind tells an app's Lua error from a broken contract: one that
// lsgi.validator raised, that start_response or write refused, or that the
// bridge found outside Lua (a bad result, a non-string chunk).
func runtimeKind(e *luabridge.AppError) devmode.Kind {
	if e.Timeout {
		return devmode.TimeoutError
	}
	var luaErr *luabridge.LuaError
	if !errors.As(e, &luaErr) {
		return devmode.ContractError
	}
	msg := luaErr.Message
	if strings.Contains(msg, "lsgi.validator:") || strings.Contains(msg, "start_response: ") || strings.Contains(msg, "write: ") {
		return devmode.ContractError
	}
	return devmode.RuntimeError
}

// reload is what a development page about app needs to reload itself.
func (h *Handler) reload(app string) devmode.Reload {
	return devmode.Reload{
		URL: h.root + eventsPath + "?app=" + url.QueryEscape(app),
		Gen: h.reg.events.generation(app),
	}
}
