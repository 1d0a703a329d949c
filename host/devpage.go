package host

import (
	"bytes"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lsgi/lsgi/luabridge"
)

// devErrorPage answers a request for a plugin whose newest version failed
// to load, under Config.Dev: loopback clients see the error and the source
// around it; anyone else gets the plain 500, since source and paths are
// not for strangers.
func (h *Handler) devErrorPage(resp *response, r *http.Request, pl *plugin, loadErr error) {
	if !isLoopback(r.RemoteAddr) {
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error: the app \""+pl.name+"\" failed to load; see the server log\n")
		return
	}
	page := devPage{App: pl.name, Message: loadErr.Error()}
	if file, line, ok := luabridge.ErrorPosition(loadErr); ok {
		page.File, page.Line = file, line
		page.Source = h.sourceAround(file, line, 6)
	}
	var buf bytes.Buffer
	if err := devTemplate.Execute(&buf, page); err != nil {
		resp.plain(http.StatusInternalServerError, "500 Internal Server Error\n")
		return
	}
	hdr := resp.w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	resp.status = http.StatusInternalServerError
	resp.w.WriteHeader(http.StatusInternalServerError)
	if !resp.isHead {
		n, _ := resp.w.Write(buf.Bytes())
		resp.written = int64(n)
	}
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
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

// sourceAround reads the lines of a plugin file around line. file is the
// name errors use (the path on disk); only files inside the plugins folder
// are read.
func (h *Handler) sourceAround(file string, line, context int) []sourceLine {
	name := filepath.ToSlash(file)
	if root := h.reg.root; root != "" {
		rel, err := filepath.Rel(root, file)
		if err != nil {
			return nil
		}
		name = filepath.ToSlash(rel)
	}
	if !fs.ValidPath(name) {
		return nil
	}
	data, err := fs.ReadFile(h.reg.fsys, name)
	if err != nil {
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
