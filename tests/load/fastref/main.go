// Command fastref is the bare github.com/valyala/fasthttp server of the
// peer table in docs/PERFORMANCE.md: the routes and bytes of the peer
// harness's raw Go server (/hello, /page?name=X, /stream, /stream?flush=1)
// on fasthttp's own server, with no Lua and no LSGI, so that lsgi on its
// fast engine can be read against what fasthttp alone does.
package main

import (
	"bufio"
	"flag"
	"html"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	tmpl := flag.String("page", "tests/load/plugins/page/page.html", "page template ({{.name}} placeholders)")
	flag.Parse()
	src, err := os.ReadFile(*tmpl)
	if err != nil {
		log.Fatal(err)
	}
	// The peer harness's template marks the name with {name}, this
	// repository's with {{.name}}: either works.
	text := strings.ReplaceAll(string(src), "{{.name}}", "{name}")
	parts := strings.Split(text, "{name}")
	hello := []byte("Hello, world!")
	chunk := []byte(strings.Repeat("x", 99) + "\n")

	handler := func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/hello":
			ctx.SetContentType("text/plain")
			ctx.SetBody(hello)
		case "/page":
			name := string(ctx.QueryArgs().Peek("name"))
			if name == "" {
				name = "world"
			}
			body := strings.Join(parts, html.EscapeString(name))
			ctx.SetContentType("text/html; charset=utf-8")
			ctx.Response.Header.Set("Content-Length", strconv.Itoa(len(body)))
			ctx.SetBodyString(body)
		case "/stream":
			flush := string(ctx.QueryArgs().Peek("flush")) == "1"
			ctx.SetContentType("text/plain")
			ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
				for i := 0; i < 100; i++ {
					w.Write(chunk)
					if flush {
						w.Flush()
					}
				}
			})
		default:
			ctx.SetStatusCode(fasthttp.StatusNotFound)
		}
	}
	log.Printf("Listening at: http://%s", *addr)
	log.Fatal(fasthttp.ListenAndServe(*addr, handler))
}
