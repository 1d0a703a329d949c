package lualib_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/lsgitest"
)

// shimsApp reports which lfs and coxpcall a require finds, and whether the
// app's folder is what the lfs stand-in sees.
const shimsApp = `
local lfs = require "lfs"
local coxpcall = require "coxpcall"
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {
    "lfs=" .. tostring(lfs._VERSION) .. "\n",
    "coxpcall=" .. tostring(coxpcall.origin or "stand-in") .. "\n",
    "init.lua=" .. tostring(lfs.attributes and lfs.attributes("init.lua", "mode")) .. "\n",
  }
end
`

// TestShimsOnlyWithoutAppModules checks that the toolkit's lfs and coxpcall
// are found only when the app's folder has no module of that name.
func TestShimsOnlyWithoutAppModules(t *testing.T) {
	tests := []struct {
		desc  string
		files map[string]string
		want  []string
	}{
		{
			desc: "the app brings neither: the stand-ins",
			want: []string{"lfs=LSGI lfs", "coxpcall=stand-in", "init.lua=file"},
		},
		{
			desc: "the app brings both: its own",
			files: map[string]string{
				"lfs.lua":      `return {_VERSION = "app's lfs"}`,
				"coxpcall.lua": `return {origin = "app's coxpcall"}`,
			},
			want: []string{"lfs=app's lfs", "coxpcall=app's coxpcall", "init.lua=nil"},
		},
		{
			desc:  "the app brings lfs only",
			files: map[string]string{"lfs/init.lua": `return {_VERSION = "app's lfs folder"}`},
			want:  []string{"lfs=app's lfs folder", "coxpcall=stand-in"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"init.lua": shimsApp}
			for name, src := range tt.files {
				files[name] = src
			}
			for name, src := range files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := lsgitest.New(t, filepath.Join(dir, "init.lua")).Get("/")
			body := res.Body.String()
			if res.Code != 200 {
				t.Fatalf("status %d: %s", res.Code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %q lacks %q", body, w)
				}
			}
		})
	}
}
