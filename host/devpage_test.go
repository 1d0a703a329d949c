package host

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// getLocal is get from a loopback client, with an Accept field when accept
// is not "".
func getLocal(h http.Handler, method, target, accept string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "127.0.0.1:5555"
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	h.ServeHTTP(rec, req)
	return rec
}

// devApps are the plugins of the development-page tests, each failing its
// own way.
var devApps = map[string]string{
	"syntax.lua": "return function(environ, start_response)\n  if then\nend\n",
	"runtime.lua": `local function helper(t)
  return t.x.y
end

return function(environ, start_response)
  helper({})
end
`,
	"contract.lua": `return function(environ, start_response)
  start_response("200 OK", {{"Connection", "close"}})
  return {"hi"}
end
`,
	"chunk.lua": `return function(environ, start_response)
  start_response("200 OK", {})
  return {{}}
end
`,
	"slow.lua": `return function(environ, start_response)
  while true do end
end
`,
	"page.lua": `return function(environ, start_response)
  local body = "<html><body><p>hi</p></body></html>"
  start_response("200 OK", {{"Content-Type", "text/html; charset=utf-8"}})
  return {body}
end
`,
}

func newDevHandler(t *testing.T, dev bool) (*Handler, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range devApps {
		writeFile(t, filepath.Join(dir, name), src)
	}
	return newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Dev: dev, Validate: dev, Timeout: 300 * time.Millisecond})
}

func TestDevErrorPages(t *testing.T) {
	h, _ := newDevHandler(t, true)
	tests := []struct {
		desc, path string
		status     int
		heading    string // in the HTML page
		kind       string // in the JSON body
		excerpt    string // the hot line of the first excerpt, "" for none
		line       int
	}{
		{"syntax error", "/syntax", 500, "failed to load", "load", "  if then", 2},
		{"runtime error", "/runtime", 500, "raised an error", "runtime", "  return t.x.y", 2},
		{"validator", "/contract", 500, "broke the LSGI contract", "contract", `  start_response(&#34;200 OK&#34;, {{&#34;Connection&#34;, &#34;close&#34;}})`, 2},
		{"bad chunk", "/chunk", 500, "broke the LSGI contract", "contract", "", 0},
		{"timeout", "/slow", 504, "ran past its deadline", "timeout", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			rec := getLocal(h, "GET", tc.path, "text/html,*/*;q=0.8")
			body := rec.Body.String()
			if rec.Code != tc.status || !strings.Contains(body, tc.heading) {
				t.Fatalf("HTML: %d, want %d and %q in:\n%s", rec.Code, tc.status, tc.heading, body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.excerpt != "" {
				hot := `<span class="hot"><span class="n">` + strconv.Itoa(tc.line) + `</span>` + tc.excerpt + `</span>`
				if !strings.Contains(body, hot) {
					t.Errorf("no excerpt %q in:\n%s", hot, body)
				}
			}
			if !strings.Contains(body, "new EventSource(") {
				t.Errorf("the page has no refresh script")
			}

			rec = getLocal(h, "GET", tc.path, "application/json")
			var got struct {
				Error, Kind, File string
				Line              int
				Traceback         []struct {
					File string
					App  bool
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != tc.status {
				t.Fatalf("JSON: %d %v\n%s", rec.Code, err, rec.Body)
			}
			if got.Kind != tc.kind || got.Error == "" || got.Line != tc.line {
				t.Errorf("JSON = %+v, want kind %s, line %d", got, tc.kind, tc.line)
			}

			rec = get(h, "GET", tc.path) // another machine
			if rec.Code != tc.status || strings.Contains(rec.Body.String(), tc.path[1:]+".lua") {
				t.Errorf("another machine got %d %q", rec.Code, rec.Body.String())
			}
		})
	}
}

func TestNoDevPagesWithoutDev(t *testing.T) {
	h, _ := newDevHandler(t, false)
	for _, path := range []string{"/runtime", "/chunk", "/syntax"} {
		rec := getLocal(h, "GET", path, "application/json")
		if rec.Code != 500 || strings.Contains(rec.Body.String(), ".lua") || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s without Dev: %d %q %q", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	if rec := getLocal(h, "GET", "/page", "text/html"); strings.Contains(rec.Body.String(), "<script") {
		t.Errorf("a script was injected without Dev: %q", rec.Body)
	}
	if rec := getLocal(h, "GET", "/", ""); rec.Code != 404 || rec.Body.String() != "404 Not Found\n" {
		t.Errorf("/ without Dev: %d %q", rec.Code, rec.Body)
	}
}

// injectApp answers with the Content-Type, Content-Encoding and chunks
// given (an array: the host has them all at hand), declaring a
// Content-Length when length is set.
func injectApp(ctype, encoding string, length bool, chunks ...string) string {
	var quoted []string
	total := 0
	for _, c := range chunks {
		quoted = append(quoted, strconv.Quote(c))
		total += len(c)
	}
	headers := `{"Content-Type", "` + ctype + `"}`
	if encoding != "" {
		headers += `, {"Content-Encoding", "` + encoding + `"}`
	}
	if length {
		headers += `, {"Content-Length", "` + strconv.Itoa(total) + `"}`
	}
	return `local chunks = {` + strings.Join(quoted, ", ") + `}
return function(environ, start_response)
  start_response("200 OK", {` + headers + `})
  return chunks
end
`
}

func TestReloadScriptInjection(t *testing.T) {
	tests := []struct {
		desc     string
		app      string
		method   string
		injected bool
		before   string // the script comes right before this, "" for the end
	}{
		{"before </body>", injectApp("text/html; charset=utf-8", "", true, "<html><body>hi</body></html>"), "GET", true, "</body></html>"},
		{"upper case, split across chunks", injectApp("text/HTML", "", false, "<BODY>hi</BO", "DY></HTML>"), "GET", true, "</BODY></HTML>"},
		{"a fragment: at the end", injectApp("text/html", "", true, "<li>one</li>"), "GET", true, ""},
		{"JSON untouched", injectApp("application/json", "", true, `{"a":"</body>"}`), "GET", false, ""},
		{"gzip untouched", injectApp("text/html", "gzip", false, "</body>"), "GET", false, ""},
		{"HEAD: the GET's length", injectApp("text/html", "", true, "<body></body>"), "HEAD", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.lua"), tc.app)
			h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Dev: true, Validate: true})
			plain, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}})
			want := getLocal(plain, tc.method, "/a", "")
			rec := getLocal(h, tc.method, "/a", "text/html,*/*;q=0.8")
			if rec.Code != 200 {
				t.Fatalf("%d %q", rec.Code, rec.Body)
			}
			script := h.reload("a").Script()
			body := rec.Body.String()
			switch {
			case !tc.injected && body != want.Body.String():
				t.Errorf("body %q, want it untouched: %q", body, want.Body)
			case tc.injected && tc.method == "HEAD":
				if body != "" {
					t.Errorf("HEAD has a body: %q", body)
				}
			case tc.injected && tc.before == "" && body != want.Body.String()+script:
				t.Errorf("body %q, want the script at the end", body)
			case tc.injected && tc.before != "" && !strings.HasSuffix(body, script+tc.before):
				t.Errorf("body %q, want the script before %q", body, tc.before)
			}
			if cl := want.Header().Get("Content-Length"); cl != "" {
				n, _ := strconv.Atoi(cl)
				if tc.injected {
					n += len(script)
				}
				if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(n) {
					t.Errorf("Content-Length %s, want %d", got, n)
				}
			}
			if rec := get(h, tc.method, "/a"); strings.Contains(rec.Body.String(), "<script") {
				t.Errorf("another machine got the script: %q", rec.Body)
			}
			if rec := getLocal(h, tc.method, "/a", "*/*"); rec.Body.String() != want.Body.String() {
				t.Errorf("a client that does not ask for HTML (curl) got %q, want the app's body %q", rec.Body, want.Body)
			}
		})
	}
}

func TestDevIndexAndNotFound(t *testing.T) {
	h, logs := newDevHandler(t, true)
	rec := getLocal(h, "GET", "/", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<a href="/runtime">/runtime</a>`) ||
		!strings.Contains(rec.Body.String(), "failed to load") {
		t.Errorf("/: %d\n%s", rec.Code, rec.Body)
	}
	rec = getLocal(h, "GET", "/", "application/json")
	var ix struct {
		Apps []struct{ Name, Mount, URL, Error string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ix); err != nil || len(ix.Apps) != len(devApps) || ix.Apps[0].URL != "/chunk" {
		t.Errorf("/ as JSON: %v %s", err, rec.Body)
	}
	rec = getLocal(h, "GET", "/nothing/here", "")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "No app is mounted at this path. Mounted: /chunk, /contract") {
		t.Errorf("/nothing/here: %d\n%s", rec.Code, rec.Body)
	}
	waitLog(t, logs, `msg="no app serves this path" path=/nothing/here`)
	if rec := get(h, "GET", "/"); rec.Code != 404 || rec.Body.String() != "404 Not Found\n" {
		t.Errorf("/ for another machine: %d %q", rec.Code, rec.Body)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("a"))
	rooted, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Dev: true, Root: "/app"})
	rec = getLocal(rooted, "GET", "/a", "")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "outside the root /app") || !strings.Contains(rec.Body.String(), `href="/app/a"`) {
		t.Errorf("/a outside --root: %d\n%s", rec.Code, rec.Body)
	}
	waitLog(t, logs, "(--root)")
}

// readEvent reads the data line of the next event of a stream.
func readEvent(t *testing.T, r *bufio.Reader) map[string]any {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev map[string]any
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			return ev
		}
	}
}

func TestEventStream(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("v1"))
	writeFile(t, filepath.Join(dir, "b.lua"), versionApp("b"))
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Dev: true, Root: "/r"})
	srv := httptest.NewServer(h)
	defer srv.Close()
	update := func(name string) {
		t.Helper()
		if err := h.reg.update(context.Background(), scope{src: 0, names: []string{name}}); err != nil {
			t.Fatal(err)
		}
	}

	resp, err := http.Get(srv.URL + "/r/.lsgi/events?app=a")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	if ev := readEvent(t, r); ev["kind"] != "hello" || ev["gen"] != h.reg.events.generation("a") {
		t.Errorf("greeting %v", ev)
	}
	writeFile(t, filepath.Join(dir, "b.lua"), versionApp("b2")) // another app: not for this stream
	update("b")
	writeFile(t, filepath.Join(dir, "a.lua"), "return function(")
	update("a")
	if ev := readEvent(t, r); ev["kind"] != "failed" || ev["app"] != "a" || !strings.Contains(ev["error"].(string), "a.lua:1") {
		t.Errorf("after a broken save: %v", ev)
	}
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("v1"))
	update("a")
	if ev := readEvent(t, r); ev["kind"] != "restored" {
		t.Errorf("after the undo: %v", ev)
	}
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("v2"))
	update("a")
	if ev := readEvent(t, r); ev["kind"] != "reloaded" || ev["version"] != 3.0 {
		t.Errorf("after a fix: %v", ev)
	}

	// Leaving and shutting down end the subscriptions.
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for h.reg.events.subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream's subscription outlived its client")
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp2, err := http.Get(srv.URL + "/r/.lsgi/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	r2 := bufio.NewReader(resp2.Body)
	readEvent(t, r2)
	h.CloseStreams()
	ended := make(chan error, 1)
	go func() { _, err := io.ReadAll(r2); ended <- err }()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("the stream ended badly: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CloseStreams left the stream open")
	}
	if rec := get(h, "GET", "/r/.lsgi/events"); rec.Code != 404 {
		t.Errorf("the stream for another machine: %d", rec.Code)
	}
}

func TestAssetEditKeepsTheVersion(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "blog", "init.lua"), `local template = require "lsgi.template"
n = 0
return function(environ, start_response)
  n = n + 1
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {template.render("page.txt", {n = n})}
end
`)
	writeFile(t, filepath.Join(dir, "blog", "page.txt"), "one {{.n}}")
	h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, States: 1})
	events := h.Subscribe(t.Context())
	if rec := get(h, "GET", "/blog"); rec.Body.String() != "one 1" {
		t.Fatalf("%q", rec.Body)
	}
	writeFile(t, filepath.Join(dir, "blog", "page.txt"), "two {{.n}}")
	if err := h.reg.update(context.Background(), scope{src: 0, names: []string{"blog"}}); err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Kind != EventAssets || ev.App != "blog" || ev.Version != 1 {
		t.Errorf("event %+v, want assets of version 1", ev)
	}
	if rec := get(h, "GET", "/blog"); rec.Body.String() != "two 2" {
		t.Errorf("after a template edit: %q, want the new template and the state kept (two 2)", rec.Body)
	}
	waitLog(t, logs, "app assets changed; no reload needed")
	writeFile(t, filepath.Join(dir, "blog", "init.lua"), `return function(e, sr) sr("200 OK", {}) return {"new code"} end`)
	if err := h.reg.update(context.Background(), scope{src: 0, names: []string{"blog"}}); err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Kind != EventReloaded || ev.Version != 2 {
		t.Errorf("event %+v, want reloaded version 2", ev)
	}
}

func TestExtendDeadline(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "stay.lua"), `local lsgi = require "lsgi"
return function(environ, start_response)
  local ok, left = lsgi.extend_deadline(tonumber(environ.QUERY_STRING))
  local slept, why = lsgi.sleep(0.3)
  start_response("200 OK", {})
  return {tostring(ok) .. " " .. tostring(slept) .. " " .. tostring(why)}
end
`)
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Timeout: 100 * time.Millisecond, MaxStreamTime: 2 * time.Second})
	tests := []struct {
		desc, query, want string
	}{
		{"within the maximum", "1", "true true nil"},
		{"past the maximum", "10", "false true nil"},
		{"not extended", "0", "true false lsgi.sleep: the request's deadline comes in"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			rec := get(h, "GET", "/stay?"+tc.query)
			if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), tc.want) {
				t.Errorf("%d %q, want %q", rec.Code, rec.Body, tc.want)
			}
		})
	}
}
