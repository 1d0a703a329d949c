package host

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/luabridge"
)

// devErrorPage answers a request for a plugin whose newest version failed
// to load, under Config.Dev: loopback clients see the error and the source
// around it; anyone else gets the plain 500, since source and paths are
// not for strangers.
func (h *Handler) devErrorPage(resp *response, r *Request, pl *plugin, loadErr error) {
	if !environ.IsLoopback(r.RemoteAddr) {
		resp.notLoaded(pl.name)
		return
	}
	page := devPage{App: pl.name, Message: loadErr.Error()}
	if file, line, ok := luabridge.ErrorPosition(loadErr); ok {
		page.File, page.Line = file, line
		page.Source = sourceAround(pl.files.source(file), line, 6)
	}
	var buf strings.Builder
	if err := devTemplate.Execute(&buf, page); err != nil {
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
		return
	}
	resp.hostPage(http.StatusInternalServerError, "text/html; charset=utf-8", buf.String(), "Cache-Control", "no-store")
}

type devPage struct {
	App, Message, File string
	Line               int
	Source             []sourceLine
}

type sourceLine struct {
	N    int
	Text string
	Hot  bool
}

// sourceAround returns the lines of a source file around line.
func sourceAround(data []byte, line, context int) []sourceLine {
	if data == nil {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	var out []sourceLine
	for n := max(1, line-context); n <= min(len(lines), line+context); n++ {
		out = append(out, sourceLine{N: n, Text: lines[n-1], Hot: n == line})
	}
	return out
}

var devTemplate = template.Must(template.New("dev").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.App}} failed to load</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}
pre{background:#f6f6f6;padding:1em;overflow:auto}
.msg{background:#fee;border-left:4px solid #c00;padding:.8em 1em;white-space:pre-wrap;font-family:monospace}
.hot{background:#fdd;font-weight:bold}
</style></head><body>
<h1>The app “{{.App}}” failed to load</h1>
<div class="msg">{{.Message}}</div>
{{if .Source}}<h2>{{.File}}, line {{.Line}}</h2>
<pre>{{range .Source}}<span{{if .Hot}} class="hot"{{end}}>{{printf "%4d" .N}}  {{.Text}}</span>
{{end}}</pre>{{end}}
<p>Fix the file and save it: this page turns into your app as soon as it loads.</p>
</body></html>
`))
