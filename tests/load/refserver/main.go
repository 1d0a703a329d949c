// Command refserver is the reference the load script measures lsgi
// against: plain net/http handlers producing the same bytes as
// tests/load/plugins, so that the ratio between the two is the cost of
// going through Lua.
package main

import (
	"flag"
	"html"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	tmpl := flag.String("page", "tests/load/plugins/page/page.html", "page template ({{.name}} placeholders)")
	flag.Parse()
	src, err := os.ReadFile(*tmpl)
	if err != nil {
		log.Fatal(err)
	}
	parts := strings.Split(string(src), "{{.name}}")
	chunk := strings.Repeat("x", 99) + "\n"

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "13")
		io.WriteString(w, "Hello, world!")
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		body := strings.Join(parts, html.EscapeString(name))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	})
	// /stream writes the chunks and lets net/http's buffer gather them
	// (after flushing the first, which fixes chunked framing, as LSGI
	// does); /stream?flush=1 flushes every chunk, as LSGI does with
	// lsgi.exact_chunks.
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		flush := r.URL.RawQuery == "flush=1"
		f := w.(http.Flusher)
		for i := 0; i < 100; i++ {
			io.WriteString(w, chunk)
			if flush || i == 0 {
				f.Flush()
			}
		}
	})
	// /counter: hello with a hit counter shared by every request.
	var hits atomic.Int64
	mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
		body := "Hello, visitor " + strconv.FormatInt(hits.Add(1), 10) + "!"
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	})
	log.Printf("Listening at: http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
