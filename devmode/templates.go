package devmode

import (
	"encoding/json"
	"html/template"
	"strings"
)

// pages holds every development page: one style for all of them.
var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>
:root{--ink:#1d1d21;--muted:#66666e;--line:#e1e1e6;--panel:#fff;--bg:#f6f6f8;--accent:#c0392b;--hot:#ffe1dc}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#26262c;color:#fff;padding:1.3em 2rem 1.2em;border-top:6px solid var(--accent)}
header.contract{--accent:#c27c0e}header.timeout{--accent:#6b52c7}header.index{--accent:#2e7d5b}
.tag{display:inline-block;font:600 12px/1 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.04em;text-transform:uppercase;background:var(--accent);color:#fff;padding:.4em .65em;border-radius:3px}
h1{margin:.45em 0 .15em;font-size:1.55em;font-weight:600;line-height:1.25}
.req{margin:0;color:#c8c8d0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:14px;word-break:break-all}
main{padding:1.4em 2rem 2em;max-width:72em}
code,pre{font:13px/1.55 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{margin:0;overflow:auto}
.msg{background:var(--panel);border:1px solid var(--line);border-left:5px solid var(--accent);padding:.9em 1.1em;white-space:pre-wrap;word-break:break-word;font-size:14px;font-weight:500}
.site{margin:1.4em 0;background:var(--panel);border:1px solid var(--line);border-radius:6px;overflow:hidden}
.site h2{margin:0;padding:.55em 1em;font-size:14px;font-weight:500;background:#efeff3;border-bottom:1px solid var(--line)}
.site h2 span{color:var(--muted);margin-left:.6em}
.src{padding:.45em 0}
.src>span{display:block;padding:0 1em;white-space:pre}
.src .n{display:inline-block;min-width:3em;margin-right:1em;color:#9d9da6;text-align:right;user-select:none}
.src .hot{background:var(--hot);font-weight:600;box-shadow:inset 4px 0 var(--accent)}
.nosrc{margin:0;padding:.6em 1em;color:var(--muted)}
details{margin:1.4em 0}
summary{cursor:pointer;color:var(--muted)}
ol.frames{margin:.6em 0;padding-left:2.6em;font:13px/1.7 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
ol.frames .tk{color:#9d9da6}
table.apps{border-collapse:collapse;background:var(--panel);border:1px solid var(--line);min-width:40em}
table.apps th,table.apps td{text-align:left;padding:.5em 1em;border-bottom:1px solid var(--line)}
table.apps th{background:#efeff3;font-weight:500;font-size:14px}
a{color:#1a5fb4}
.bad{color:var(--accent);font-weight:600}
.note{background:var(--panel);border:1px solid var(--line);border-left:5px solid var(--accent);padding:.8em 1.1em}
.hint{color:var(--muted);border-top:1px solid var(--line);padding-top:1em;margin-top:2em;font-size:14px}
</style></head><body>{{end}}

{{define "error"}}{{template "head" .}}
<header class="{{.Kind}}"><span class="tag">{{.Status}} {{.Reason}} · {{.Kind}} error</span>
<h1>{{.Heading}}</h1>{{if .Method}}<p class="req">{{.Method}} {{.Path}}</p>{{end}}</header>
<main>
<pre class="msg">{{.Message}}</pre>
{{range .Sites}}<section class="site"><h2><code>{{.File}}:{{.Line}}</code>{{if .Where}}<span>{{.Where}}</span>{{end}}</h2>
{{if .Source}}<pre class="src">{{range .Source}}<span{{if .Hot}} class="hot"{{end}}><span class="n">{{.N}}</span>{{.Text}}</span>{{end}}</pre>
{{else}}<p class="nosrc">The source of this file is not available.</p>{{end}}</section>
{{end}}{{if .Frames}}<details><summary>Show all frames ({{len .Frames}}{{if .Hidden}}, {{.Hidden}} of them in the toolkit or Go{{end}})</summary>
<ol class="frames">{{range .Frames}}<li{{if not .App}} class="tk"{{end}}>{{.String}}</li>{{end}}</ol></details>
{{end}}<p class="hint">{{.Hint}} This page is shown because the server runs with --dev and you are on this machine.</p>
</main>{{.Script}}</body></html>
{{end}}

{{define "index"}}{{template "head" .}}
<header class="index"><span class="tag">{{.Status}} · lsgi --dev</span>
<h1>{{.Heading}}</h1>{{if .Path}}<p class="req">{{.Path}}</p>{{end}}</header>
<main>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{if .Apps}}<table class="apps"><tr><th>Mount</th><th>App</th><th>File</th><th>State</th></tr>
{{range .Apps}}<tr><td><a href="{{.URL}}">{{.Mount}}</a></td><td>{{.Name}}</td><td><code>{{.File}}</code></td><td>{{if .Error}}<span class="bad" title="{{.Error}}">failed to load</span>{{else}}serving{{end}}</td></tr>
{{end}}</table>
{{else}}<p>No app is mounted. Save a file <code>NAME.lua</code> in the plugins folder, or run <code>lsgi new NAME</code>, and it appears here.</p>
{{end}}<p class="hint">Without --dev, or for other machines, this address answers 404. An <code>index.lua</code> in the plugins folder takes it over.</p>
</main>{{.Script}}</body></html>
{{end}}
`))

// render runs one of the pages' templates.
func render(name string, data any) string {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		// The templates are fixed and their data is plain: this is a bug.
		panic("devmode: render " + name + ": " + err.Error())
	}
	return b.String()
}

// Reload is what a page needs to reload itself when its app changes.
type Reload struct {
	// URL is the host's event stream for the app (ROOT/.lsgi/events?app=NAME).
	URL string

	// Gen is the app's generation when the page was made: a page whose
	// app changed before its stream opened reloads at once.
	Gen string
}

// Script returns the HTML script element that reloads the page: it opens
// an EventSource on r.URL and reloads on any event but the stream's
// greeting, or on a greeting whose generation is not r.Gen (the app
// changed, or the server restarted, while the page was away). The element
// removes itself from the document, and a page runs one such script at
// most, however many responses inserted it. It returns "" when r.URL is
// "".
func (r Reload) Script() string {
	if r.URL == "" {
		return ""
	}
	url, _ := json.Marshal(r.URL) // escapes <, > and &: safe inside <script>
	gen, _ := json.Marshal(r.Gen)
	return `<script>(function(){var me=document.currentScript;if(me)me.remove();` +
		`if(window.__lsgiReload||!window.EventSource)return;window.__lsgiReload=true;` +
		`var gen=` + string(gen) + `,es=new EventSource(` + string(url) + `);` +
		`es.onmessage=function(m){var e;try{e=JSON.parse(m.data)}catch(_){return}` +
		`if(e.kind==="hello"&&e.gen===gen)return;es.close();location.reload()}})();</script>`
}

func (r Reload) script() template.HTML { return template.HTML(r.Script()) } // built from JSON-escaped values only
