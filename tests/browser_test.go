package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// The development loop in a real browser: lsgi serve --dev, a page open in
// headless Chromium, and files saved the way an editor saves them. The
// tests never reload the page themselves: the script the host injects
// does.

// startBrowserServer serves a plugins folder of the files given (name:
// content) with lsgi serve --dev, named "plugins" on the command line as a
// user would name it, so that pages and screenshots show short paths.
func startBrowserServer(t *testing.T, files map[string]string) *server {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	for name, content := range files {
		savePlain(t, filepath.Join(dir, name), content)
	}
	return startServerNamed(t, nil, nil, dir, "plugins", "--dev")
}

// browserPage is an HTML app whose page says text.
func browserPage(text string) string {
	return `local Response = require "lsgi.response"

return function(environ, start_response)
  return Response.html("<!doctype html><html><head><title>page</title></head><body><h1>` + text + `</h1></body></html>")(environ, start_response)
end
`
}

// browserBroken does not compile: line 3 has an "if" without "then".
const browserBroken = `local Response = require "lsgi.response"

if x = 1 then end

return function(environ, start_response)
  return Response.html("<p>never</p>")(environ, start_response)
end
`

// TestBrowserRefreshOnSave opens a page, saves a new version of its app,
// breaks it, and fixes it: the page follows each save by itself, showing
// the error page with the broken line while the app is broken.
func TestBrowserRefreshOnSave(t *testing.T) {
	b := startBrowser(t)
	s := startBrowserServer(t, map[string]string{"page.lua": browserPage("first version")})
	file := filepath.Join(s.dir, "page.lua")
	b.open(s.base + "/page")
	b.waitText("first version")

	saveAtomic(t, file, browserPage("second version"))
	b.waitText("second version")

	savePlain(t, file, browserBroken)
	b.waitText("failed to load", "page.lua:3")
	html := b.html()
	for _, want := range []string{`<span class="hot"><span class="n">3</span>if x = 1 then end</span>`, `<span class="n">1</span>local Response`} {
		if !strings.Contains(html, want) {
			t.Errorf("the error page lacks the excerpt %q:\n%s", want, html)
		}
	}
	b.screenshot("dev-load-error")

	saveLikeVim(t, file, browserPage("third version"))
	text := b.waitText("third version")
	if strings.Contains(text, "failed to load") {
		t.Errorf("the page still shows the error:\n%s", text)
	}
}

// browserBoom raises on line 2, in a helper called from line 6: an app that
// loads but fails on every request, with no error middleware around it.
const browserBoom = `local function total(order)
  return order.items.count + 1
end

return function(environ, start_response)
  local n = total({})
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {tostring(n)}
end
`

// TestBrowserRuntimeErrorPage opens an app that raises while serving: the
// browser gets the development error page with the app's frames and their
// source, and the toolkit's frames folded away.
func TestBrowserRuntimeErrorPage(t *testing.T) {
	b := startBrowser(t)
	s := startBrowserServer(t, map[string]string{"shop.lua": browserBoom, "hello.lua": browserPage("hello")})
	b.open(s.base + "/shop/cart?id=7")
	text := b.waitText("raised an error", "GET /shop/cart", "shop.lua:2", "attempt to index", "shop.lua:6", "Show all frames")
	if strings.Contains(text, "lsgi/validator.lua") {
		t.Errorf("the toolkit's frames are not folded away:\n%s", text)
	}
	html := b.html()
	for _, want := range []string{
		`<span class="hot"><span class="n">2</span>  return order.items.count + 1</span>`,
		`<span class="hot"><span class="n">6</span>  local n = total({})</span>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the error page lacks the excerpt %q", want)
		}
	}
	b.screenshot("dev-error-page")

	b.open(s.base + "/")
	b.waitText("Apps served here", "/shop", "plugins/hello.lua")
	b.screenshot("dev-index")
}
