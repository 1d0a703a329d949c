package lualib

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// bombs builds a table shared at every level: t = {t, t} n deep, which
// reaches 2^n values through its paths with only n tables.
const bombs = `
local function shared(n) local t = {1} for i = 1, n do t = {t, t} end return t end
local function deep(n) local t = {} for i = 1, n do t = {t} end return t end
`

// TestConversionBounds checks that json.encode, json.decode and the
// template data conversion stop at their limits quickly, with a catchable
// error naming the limit.
func TestConversionBounds(t *testing.T) {
	fsys := fstest.MapFS{"t.html": {Data: []byte(`{{range .}}{{.}}{{end}}`)}, "big.html": {Data: []byte(`{{range .}}{{.}}{{.}}{{.}}{{end}}`)}}
	tests := []struct {
		desc   string
		limits luabridge.Limits
		expr   string
		want   string
	}{
		{"encode a shared table 25 deep", luabridge.Limits{}, `json.encode(shared(25))`, "data-nodes limit of 1000000"},
		{"encode past the node limit", luabridge.Limits{MaxDataNodes: 1000}, `json.encode(shared(12))`, "data-nodes limit of 1000"},
		{"encode too deep", luabridge.Limits{MaxDataDepth: 50}, `json.encode(deep(60))`, "data-depth limit of 50"},
		{"encode a cycle", luabridge.Limits{}, `local t = {} t[1] = t return json.encode(t)`, "contains itself"},
		{"encode past the text limit", luabridge.Limits{MaxStringBytes: 4096}, `json.encode({string.rep("x", 5000)})`, "string-bytes limit"},
		{"decode too deep", luabridge.Limits{MaxDataDepth: 50}, `json.decode(string.rep("[", 60) .. string.rep("]", 60))`, "data-depth limit of 50"},
		{"decode past the node limit", luabridge.Limits{MaxDataNodes: 100}, `json.decode("[" .. string.rep("1,", 200) .. "1]")`, "data-nodes limit of 100"},
		{"template data shared 25 deep", luabridge.Limits{}, `template.render("t.html", shared(25))`, "data-nodes limit"},
		{"template data too deep", luabridge.Limits{MaxDataDepth: 20}, `template.render("t.html", {deep(30)})`, "data-depth limit of 20"},
		{"template output past the limit", luabridge.Limits{MaxStringBytes: 4096}, `local t = {} for i = 1, 500 do t[i] = "xxxxxxxxxx" end return template.render("big.html", t)`, "the rendered text exceeds the string-bytes limit"},
		{"html.escape past the limit", luabridge.Limits{MaxStringBytes: 4096}, `html.escape(string.rep("<", 1000))`, "lsgi.html.escape: the result exceeds"},
		{"util.quote past the limit", luabridge.Limits{MaxStringBytes: 4096}, `util.quote(string.rep("/", 2000), "")`, "lsgi.util.quote: the result exceeds"},
		{"util.urlencode past the limit", luabridge.Limits{MaxStringBytes: 4096}, `local t = {} for i = 1, 300 do t[i] = {"k" .. i, "&&&&&"} end return util.urlencode(t)`, "lsgi.util.urlencode"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			sh := NewShared(Options{FS: fsys, Limits: tt.limits})
			L := newSafeState(t)
			sh.Preload(L)
			src := bombs + `local json, template, html, util = require "lsgi.json", require "lsgi.template", require "lsgi.html", require "lsgi.util"
				local ok, err = pcall(function() ` + tt.expr + ` end) RESULT = tostring(ok) .. " " .. tostring(err)`
			start := time.Now()
			if err := L.DoString(src); err != nil {
				t.Fatal(err)
			}
			got := lua.LVAsString(L.GetGlobal("RESULT"))
			if !strings.HasPrefix(got, "false ") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want an error containing %q", got, tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestJSONAlias checks that json is lsgi.json under its old name, the
// same table (and so the same json.null).
func TestJSONAlias(t *testing.T) {
	sh := NewShared(Options{})
	L := newSafeState(t)
	sh.Preload(L)
	if err := L.DoString(`assert(require("json") == require("lsgi.json")) assert(require("json").null == require("lsgi.json").null)`); err != nil {
		t.Fatal(err)
	}
}

// TestTemplatesStayInTheFolder checks that lsgi.template refuses a
// template reached through a symbolic link that leaves the app's folder.
func TestTemplatesStayInTheFolder(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	if err := os.MkdirAll(filepath.Join(app, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "passwd"), []byte("root:x:0:0"), 0o644)
	os.WriteFile(filepath.Join(app, "templates", "ok.html"), []byte("ok {{.}}"), 0o644)
	os.Symlink("../../passwd", filepath.Join(app, "templates", "out.html"))
	os.Symlink(filepath.Join(root, "passwd"), filepath.Join(app, "templates", "abs.html"))
	os.Symlink("ok.html", filepath.Join(app, "templates", "alias.html"))
	sh := NewShared(Options{FS: os.DirFS(app)})
	L := newSafeState(t)
	sh.Preload(L)
	tests := []struct{ name, want string }{
		{"templates/alias.html", "true ok 1"},
		{"templates/out.html", "leads out of the app's folder"},
		{"templates/abs.html", "leads out of the app's folder"},
	}
	for _, tt := range tests {
		if err := L.DoString(`local ok, out = pcall(require("lsgi.template").render, "` + tt.name + `", 1) RESULT = tostring(ok) .. " " .. out`); err != nil {
			t.Fatal(err)
		}
		if got := lua.LVAsString(L.GetGlobal("RESULT")); !strings.Contains(got, tt.want) || strings.Contains(got, "root:x") {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if err := L.DoString(`RESULT = tostring(require("lsgi.template").exists("templates/out.html"))`); err != nil {
		t.Fatal(err)
	}
	if got := lua.LVAsString(L.GetGlobal("RESULT")); got != "false" {
		t.Errorf("exists of a link out = %s, want false", got)
	}
}
