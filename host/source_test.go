package host

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginFiles checks where a plugin's files may come from: a
// single-file plugin may require the folder's files unless the folder is
// isolated, and a plugin's main file follows a symbolic link only while it
// stays inside the plugins folder (a single file, a plugin's folder) or
// the plugin's own folder (its init.lua).
func TestPluginFiles(t *testing.T) {
	outside := t.TempDir()
	write := func(dir, name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, name); err != nil {
			t.Skipf("symbolic links unavailable: %v", err)
		}
	}
	const serves = `return function(e, sr) sr("200 OK", {}) return {"ok"} end`
	dir := t.TempDir()
	write(dir, "blog/init.lua", `local posts = require "posts" return function(e, sr) sr("200 OK", {}) return {posts.title} end`)
	write(dir, "blog/posts.lua", `return {title = "private"}`)
	write(dir, "peek.lua", `local ok, posts = pcall(require, "blog.posts")
		return function(e, sr) sr("200 OK", {}) return {ok and posts.title or "refused"} end`)
	write(dir, "real/inner.lua", serves)
	link("real/inner.lua", filepath.Join(dir, "inner.lua"))
	link("/etc/passwd", filepath.Join(dir, "passwd.lua"))
	write(outside, "app/init.lua", serves)
	write(outside, "secret.lua", `root:x:0:0:root:/root:/bin/bash`)
	link(filepath.Join(outside, "app"), filepath.Join(dir, "away"))
	write(dir, "linked/other.lua", serves)
	link(filepath.Join(outside, "secret.lua"), filepath.Join(dir, "linked", "init.lua"))

	tests := []struct {
		desc       string
		isolate    bool
		path       string
		wantStatus int
		wantBody   string
	}{
		{"a folder app's own module", false, "/blog", http.StatusOK, "private"},
		{"a single file requires a folder app's module", false, "/peek", http.StatusOK, "private"},
		{"isolated, it cannot", true, "/peek", http.StatusOK, "refused"},
		{"isolation leaves folder apps their modules", true, "/blog", http.StatusOK, "private"},
		{"a main file linked inside the folder", false, "/inner", http.StatusOK, "ok"},
		{"a main file linked to /etc/passwd", false, "/passwd", http.StatusInternalServerError, ""},
		{"a plugin folder linked out of the plugins folder", false, "/away", http.StatusInternalServerError, ""},
		{"an init.lua linked out of its folder", false, "/linked", http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir, Isolate: tt.isolate}}})
			rec := get(h, "GET", tt.path)
			if rec.Code != tt.wantStatus || tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("GET %s: %d %q, want %d %q", tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus == http.StatusInternalServerError && !strings.Contains(logs.String(), "symbolic link leads out") {
				t.Errorf("the refusal is not logged as a link that leads out:\n%s", logs)
			}
			if strings.Contains(logs.String(), "root:x:0") {
				t.Errorf("the log shows the target's content:\n%s", logs)
			}
		})
	}
}
