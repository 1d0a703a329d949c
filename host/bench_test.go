package host

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

// The benchmarks run the whole request path in process: routing, environ,
// a pooled Lua state, start_response, the body iterator and the response
// writer. BenchmarkRawGo is the reference measured in the same run: a plain
// net/http handler writing the same bytes. Compare ns/op as a ratio.

func benchHandler(b *testing.B) *Handler {
	b.Helper()
	// The same apps the load script (tests/load/run.sh) measures over HTTP.
	h, err := New(Config{Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

func benchRequest(b *testing.B, h http.Handler, path string, wantLen int) {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.Len() != wantLen {
			b.Fatalf("got %d with %d bytes", rec.Code, rec.Body.Len())
		}
	}
}

var rawChunk = strings.Repeat("x", 99) + "\n"

func rawGo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if r.URL.Path == "/stream" {
		f := w.(http.Flusher)
		for i := 0; i < 100; i++ {
			io.WriteString(w, rawChunk)
			f.Flush()
		}
		return
	}
	w.Header().Set("Content-Length", "13")
	io.WriteString(w, "Hello, world!")
}

func BenchmarkHello(b *testing.B) {
	b.Run("lsgi", func(b *testing.B) { benchRequest(b, benchHandler(b), "/hello", 13) })
	b.Run("rawgo", func(b *testing.B) { benchRequest(b, http.HandlerFunc(rawGo), "/hello", 13) })
}

func BenchmarkStream100(b *testing.B) {
	b.Run("lsgi", func(b *testing.B) { benchRequest(b, benchHandler(b), "/stream", 10000) })
	b.Run("rawgo", func(b *testing.B) { benchRequest(b, http.HandlerFunc(rawGo), "/stream", 10000) })
}

func BenchmarkPage(b *testing.B) {
	b.Run("lsgi", func(b *testing.B) { benchRequest(b, benchHandler(b), "/page?name=World", 1013) })
}

func BenchmarkStreamTable(b *testing.B) {
	b.Run("lsgi", func(b *testing.B) { benchRequest(b, benchHandler(b), "/stream?table=1", 10000) })
}

func BenchmarkHelloParallel(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/hello", nil)
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// benchFields is a header as an engine other than net/http hands it over.
type benchFields [][2]string

func (f benchFields) VisitFields(v environ.FieldVisitor) {
	for _, kv := range f {
		v.Field(kv[0], kv[1])
	}
}

// benchRequestFields is GET /hello as an engine other than net/http
// describes it.
func benchRequestFields() environ.Request {
	return environ.Request{Method: "GET", Target: "/hello", Path: "/hello", Proto: "HTTP/1.1",
		Host: "example.com", RemoteAddr: "192.0.2.1:1234", Header: benchFields{{"User-Agent", "bench"}, {"Accept", "*/*"}}}
}

// discardWriter is a ResponseWriter that counts the body.
type discardWriter struct{ n int }

func (w *discardWriter) AddHeader(name, value string)                {}
func (w *discardWriter) WriteHeader(status int, reason string) error { return nil }
func (w *discardWriter) Write(chunk string, flush bool) error        { w.n += len(chunk); return nil }

// BenchmarkServeRequest is hello through the lower seam, with no net/http
// on the path: what the cycle itself costs an HTTP engine.
func BenchmarkServeRequest(b *testing.B) {
	h := benchHandler(b)
	req := &Request{Request: benchRequestFields()}
	w := &discardWriter{}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		if err := h.ServeRequest(context.Background(), w, req); err != nil || w.n != 13 {
			b.Fatalf("ServeRequest = %v with %d bytes", err, w.n)
		}
	}
}

// BenchmarkServeRequestMetrics is BenchmarkServeRequest without and with
// Config.Metrics, paired so that benchstat gives the counting hook's cost:
//
//	go test -run '^$' -bench ServeRequestMetrics -count 10 ./host | benchstat -col /metrics -
func BenchmarkServeRequestMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			h, err := New(Config{Metrics: on, Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}},
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { h.Close() })
			req := &Request{Request: benchRequestFields()}
			w := &discardWriter{}
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				if err := h.ServeRequest(context.Background(), w, req); err != nil || w.n != 13 {
					b.Fatalf("ServeRequest = %v with %d bytes", err, w.n)
				}
			}
		})
	}
}
