package environ_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

// browserGET is a typical browser navigation: eight header fields besides
// Host, all of them common names.
const browserGET = "GET /shop/item/42?ref=home HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=abc123; theme=dark\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"\r\n"

// browserRequest returns browserGET as the server would hand it over,
// with the listener address in the context.
func browserRequest(tb testing.TB) *http.Request {
	r := readRequest(tb, browserGET)
	addr := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:8080"))
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
}

var (
	configured = &environ.Gateway{ServerSoftware: "lsgi/0.1.0", ServerName: "www.example.com", ServerPort: "8080"}
	fromSocket = &environ.Gateway{ServerSoftware: "lsgi/0.1.0"}
)

func BenchmarkBuild(b *testing.B) {
	r := browserRequest(b)
	run := func(name string, gw *environ.Gateway, reuse bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var vars environ.Vars
			for b.Loop() {
				var dst environ.Vars
				if reuse {
					dst = vars[:0]
				}
				var err error
				vars, err = buildHTTP(dst, r, "/shop", gw)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("reuse", configured, true)
	run("fresh", configured, false)
	run("listener", fromSocket, true)
}

// TestBuildAllocs pins the allocation counts that BenchmarkBuild reports.
func TestBuildAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and the race detector change allocation counts")
	}
	r := browserRequest(t)
	tests := []struct {
		desc  string
		gw    *environ.Gateway
		reuse bool
		want  float64
	}{
		{"configured, reused slice", configured, true, 0},
		{"configured, new slice", configured, false, 1},
		{"listener address, reused slice", fromSocket, true, 1},
	}
	for _, tt := range tests {
		vars, _ := buildHTTP(nil, r, "/shop", tt.gw)
		got := testing.AllocsPerRun(100, func() {
			var dst environ.Vars
			if tt.reuse {
				dst = vars[:0]
			}
			vars, _ = buildHTTP(dst, r, "/shop", tt.gw)
		})
		if got > tt.want {
			t.Errorf("%s: %v allocations, want %v", tt.desc, got, tt.want)
		}
	}
}
