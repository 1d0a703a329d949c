package host

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkCounter is hello with a hit counter in lsgi.shared (the memory
// store): the cost of one shared incr on the request path. Compare with
// BenchmarkHello/lsgi, and with rawgo here: net/http with an atomic
// counter, the same bytes.
func BenchmarkCounter(b *testing.B) {
	b.Run("lsgi", func(b *testing.B) { benchCounter(b, benchHandler(b)) })
	var hits atomic.Int64
	b.Run("rawgo", func(b *testing.B) {
		benchCounter(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := "Hello, visitor " + strconv.FormatInt(hits.Add(1), 10) + "!"
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body)
		}))
	})
}

func benchCounter(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/counter", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.Len() < len("Hello, visitor 1!") {
			b.Fatalf("got %d %q", rec.Code, rec.Body)
		}
	}
}

// BenchmarkCounterParallel is BenchmarkCounter from every CPU at once: the
// states contend for one key.
func BenchmarkCounterParallel(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/counter", nil)
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
