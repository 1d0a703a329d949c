package transport

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// BenchmarkListenerGuards is a hello over loopback HTTP/1.1 keep-alive,
// served by NewHTTPServer on a plain listener ("bare") and on the
// listeners lsgi serve uses ("guarded": LimitListener under HTTPListener,
// whose framing scan reads every request's header lines). Compare the two
// as a ratio, interleaving runs (docs/PERFORMANCE.md).
func BenchmarkListenerGuards(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "13")
		io.WriteString(w, "Hello, world!")
	})
	for _, guarded := range []bool{false, true} {
		name := map[bool]string{false: "listener=bare", true: "listener=guarded"}[guarded]
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			serve := ln
			if guarded {
				serve = HTTPListener(LimitListener(ln, DefaultMaxConnections(), HTTPRefusal, discardLogger()))
			}
			srv := NewHTTPServer("", hello, discardLogger())
			go srv.Serve(serve)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			url := "http://" + ln.Addr().String() + "/hello"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
