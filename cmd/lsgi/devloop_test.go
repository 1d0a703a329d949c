package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/host"
)

func TestBaseURL(t *testing.T) {
	tests := []struct {
		desc string
		addr net.Addr
		want string
		ok   bool
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}, "http://127.0.0.1:8000", true},
		{"every IPv4 address", &net.TCPAddr{IP: net.IPv4zero, Port: 80}, "http://127.0.0.1:80", true},
		{"every IPv6 address", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8000}, "http://[::1]:8000", true},
		{"a LAN address", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8000}, "http://10.0.0.5:8000", true},
		{"a Unix socket", &net.UnixAddr{Name: "/run/lsgi.sock", Net: "unix"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, ok := baseURL(tc.addr)
			if got != tc.want || ok != tc.ok {
				t.Errorf("baseURL(%v) = %q, %v; want %q, %v", tc.addr, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestLogURLs(t *testing.T) {
	tests := []struct {
		desc             string
		apps             int
		wantAt, wantMore int
	}{
		{"a few apps, a line each", 3, 3, 0},
		{"as many as are listed", maxURLLines, maxURLLines, 0},
		{"more: a count for the rest", maxURLLines + 5, maxURLLines, 1},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			for i := range tc.apps {
				src := "return function(e, sr) sr('200 OK', {}) return {} end\n"
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("a%02d.lua", i)), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "broken.lua"), []byte("return function(\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&out, nil))
			h, err := host.New(host.Config{Plugins: []host.PluginSource{host.Folder{Path: dir}}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			logURLs(logger, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}, "", false, h)
			log := out.String()
			if got := strings.Count(log, `msg="app at http://127.0.0.1:8000/a`); got != tc.wantAt {
				t.Errorf("%d app at lines, want %d:\n%s", got, tc.wantAt, log)
			}
			if got := strings.Count(log, "more apps at http://127.0.0.1:8000/NAME"); got != tc.wantMore {
				t.Errorf("%d summary lines, want %d:\n%s", got, tc.wantMore, log)
			}
			if !strings.Contains(log, `msg="app failed to load: http://127.0.0.1:8000/broken"`) {
				t.Errorf("no line for the app that failed:\n%s", log)
			}
		})
	}
}
