package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	app := filepath.Join(t.TempDir(), "app.lua")
	if err := os.WriteFile(app, []byte(`return function(e, sr)
		sr("201 Created", {{"X-Method", e.REQUEST_METHOD}})
		return {e.PATH_INFO .. "|" .. e["lsgi.input"]:read()}
	end`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "usage: lsgi"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "lsgi 0.", ""},
		{"help", []string{"help"}, 0, "commands:", ""},
		{"serve help", []string{"serve", "-h"}, 0, "", "-fastcgi"},
		{"serve with two folders", []string{"serve", "a", "b"}, 2, "", "usage: lsgi serve"},
		{"serve with a bad log format", []string{"serve", "--log-format", "xml"}, 2, "", "want text or json"},
		{"serve with a bad access log format", []string{"serve", "--access-log-format", "%(h)d"}, 2, "", "-access-log-format"},
		{"serve workers and their admin listener on a missing folder", []string{"serve", "--bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0", "--workers", "2", filepath.Join(t.TempDir(), "none")}, 1, "", "cannot start the workers"},
		{"serve a missing folder", []string{"serve", "--bind", "127.0.0.1:0", filepath.Join(t.TempDir(), "none")}, 1, "", "cannot start"},
		{"call", []string{"call", "-X", "PUT", "-d", "body", app, "/x"}, 0, "HTTP/1.1 201 Created\nContent-Length: 7\nX-Method: PUT\n\n/x|body", ""},
		{"call with flags after the file", []string{"call", app, "/y", "-X", "POST"}, 0, "X-Method: POST", ""},
		{"call without a file", []string{"call"}, 2, "", "usage: lsgi call"},
		{"call a missing file", []string{"call", app + ".missing"}, 1, "", "no such file"},
		{"call with a bad header", []string{"call", "-H", "nocolon", app}, 2, "", "want 'Name: value'"},
		{"cgi without a file", []string{"cgi"}, 2, "", "usage: lsgi cgi"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
