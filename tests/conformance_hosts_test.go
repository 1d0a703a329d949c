package tests

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/lsgitest"
	"github.com/lsgi/lsgi/transport"
)

// The conformance hosts: each runs the same apps one way and returns a
// function that sends one request and reports what its client saw.

// confRequest is one request of the conformance table, whatever the host.
type confRequest struct {
	method  string
	app     string      // the app's name: file APP.lua, mounted at /APP
	rest    string      // the path below the app's mount, and the query: "/a%20b?x=1"
	header  [][2]string // request headers, in order
	body    string
	chunked bool // send the body without a length, as Transfer-Encoding: chunked
}

// confResponse is what the host's client saw.
type confResponse struct {
	status    int
	reason    string // the reason phrase of the status line
	header    http.Header
	body      string
	truncated bool // the client could tell that the body was cut short
}

// confDo sends one request to a started host.
type confDo func(t *testing.T, r confRequest) confResponse

// confApps is the folder of conformance apps: the seeds' examples and the
// fixtures of testdata/conformance.
type confApps struct {
	dir   string            // absolute; APP.lua for each app
	seeds map[string]string // examples/seeds/*.lua by name, for startServerFiles
	names []string          // every app
}

// seedApps are the seeds' examples in examples/seeds that the suite runs.
var seedApps = []string{"simple_app", "appclass", "appclassiter", "router", "middleware"}

// newConfApps copies the conformance apps into a temporary folder.
func newConfApps(t *testing.T) *confApps {
	t.Helper()
	a := &confApps{dir: filepath.Join(t.TempDir(), "apps"), seeds: map[string]string{}}
	if err := os.CopyFS(a.dir, os.DirFS(filepath.Join("testdata", "conformance"))); err != nil {
		t.Fatal(err)
	}
	for _, app := range seedApps {
		src, err := os.ReadFile(filepath.Join("..", "examples", "seeds", app+".lua"))
		if err != nil {
			t.Fatal(err)
		}
		a.seeds[app+".lua"] = string(src)
		if err := os.WriteFile(a.file(app), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(a.dir, "*.lua"))
	for _, f := range files {
		a.names = append(a.names, strings.TrimSuffix(filepath.Base(f), ".lua"))
	}
	return a
}

func (a *confApps) file(app string) string { return filepath.Join(a.dir, app+".lua") }

// netDo sends requests with client to base + "/APP" + rest.
func netDo(client *http.Client, base string) confDo {
	return func(t *testing.T, r confRequest) confResponse {
		t.Helper()
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
			if r.chunked {
				body = io.MultiReader(body) // hides the length
			}
		}
		req, err := http.NewRequest(r.method, base+"/"+r.app+r.rest, body)
		if err != nil {
			t.Fatalf("new request: %v", err)
		}
		for _, h := range r.header {
			req.Header.Add(h[0], h[1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, req.URL, err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		_, reason, _ := strings.Cut(resp.Status, " ")
		return confResponse{status: resp.StatusCode, reason: reason, header: resp.Header, body: string(got), truncated: err != nil}
	}
}

var fastCGIListeningRE = regexp.MustCompile(`Listening at: fastcgi://(\S+?)(?:"|\s|$)`)

// startFastCGI runs `lsgi serve --fastcgi` on bind with the given root and
// returns the address nginx should pass to.
func startFastCGI(t *testing.T, dir, bind string, flags ...string) string {
	t.Helper()
	args := append([]string{"serve", "--fastcgi", "--bind", bind, "--access-log", "off"}, flags...)
	c := startChild(t, "lsgi serve --fastcgi", filepath.Dir(dir), nil, binPath, append(args, dir)...)
	addr := c.waitLine(t, fastCGIListeningRE)[1]
	if strings.HasPrefix(addr, "/") {
		return "unix:" + addr
	}
	return addr
}

func startHTTPHost(t *testing.T, apps *confApps) confDo {
	s := startServerFiles(t, "conformance", apps.seeds, "--access-log", "off")
	return netDo(s.client, s.base)
}

func startProxyHost(t *testing.T, apps *confApps) confDo {
	lookTool(t, "nginx", "nginx-light") // skip before starting anything
	s := startServerFiles(t, "conformance", apps.seeds, "--access-log", "off", "--root", "/proxy")
	ng := startNginx(t, proxyLocation("/proxy", s.addr), false)
	return netDo(testClient(t, ""), ng.base+"/proxy")
}

func startFastCGITCPHost(t *testing.T, apps *confApps) confDo {
	lookTool(t, "nginx", "nginx-light")
	addr := startFastCGI(t, apps.dir, "127.0.0.1:0", "--root", "/fcgi")
	ng := startNginx(t, fastCGILocation("/fcgi", addr), false)
	return netDo(testClient(t, ""), ng.base+"/fcgi")
}

func startFastCGIUnixHost(t *testing.T, apps *confApps) confDo {
	lookTool(t, "nginx", "nginx-light")
	sock := filepath.Join(socketDir(t), "lsgi.sock")
	addr := startFastCGI(t, apps.dir, "unix:"+sock, "--root", "/fcgi")
	ng := startNginx(t, fastCGILocation("/fcgi", addr), false)
	return netDo(testClient(t, ""), ng.base+"/fcgi")
}

// cgiScript is the CGI program for one app, as docs/cgi.md shows it, with
// the app's stderr kept in a file the test checks for crashes.
const cgiScript = `#!/bin/sh
# With -race, do not sleep a second at exit.
export GORACE=atexit_sleep_ms=0
exec '{{lsgi}}' cgi '{{app}}' 2>>'{{log}}'
`

// startNginxCGIHost serves each app as the CGI program /cgi/APP, run by
// fcgiwrap behind nginx.
func startNginxCGIHost(t *testing.T, apps *confApps) confDo {
	lookTool(t, "nginx", "nginx-light")
	lookTool(t, "fcgiwrap", "fcgiwrap")
	root := t.TempDir()
	stderr := filepath.Join(root, "cgi-stderr.log")
	if err := os.Mkdir(filepath.Join(root, "cgi"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, app := range apps.names {
		script := strings.NewReplacer("{{lsgi}}", binPath, "{{app}}", apps.file(app), "{{log}}", stderr).Replace(cgiScript)
		if err := os.WriteFile(filepath.Join(root, "cgi", app), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := startFcgiwrap(t)
	ng := startNginx(t, `    location /cgi/ {
      root `+root+`;
      fastcgi_split_path_info ^(/cgi/[^/]+)(.*)$;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_param PATH_INFO $fastcgi_path_info;
      fastcgi_pass unix:`+sock+`;
    }
`, false)
	t.Cleanup(func() {
		log, _ := os.ReadFile(stderr)
		if m := crashRE.Find(log); m != nil {
			t.Errorf("a CGI run of lsgi crashed or raced: %s\n%s", m, log)
		}
	})
	return netDo(testClient(t, ""), ng.base+"/cgi")
}

// startGoCGIHost serves each app as a CGI program at /gocgi/APP with Go's
// net/http/cgi.Handler.
func startGoCGIHost(t *testing.T, apps *confApps) confDo {
	log := newLogBuffer()
	stderr := &lockedLog{w: &lineWriter{buf: log}}
	mux := http.NewServeMux()
	for _, app := range apps.names {
		h := &cgi.Handler{
			Path:   binPath,
			Args:   []string{"cgi", apps.file(app)},
			Root:   "/gocgi/" + app,
			Env:    []string{"GORACE=atexit_sleep_ms=0"},
			Stderr: stderr,
		}
		mux.Handle("/gocgi/"+app, h)
		mux.Handle("/gocgi/"+app+"/", h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		checkCrashFree(t, "lsgi cgi", log)
	})
	return netDo(testClient(t, ""), srv.URL+"/gocgi")
}

// startCallHost runs `lsgi call` once per request: the app alone, mounted
// at /.
func startCallHost(t *testing.T, apps *confApps) confDo {
	return func(t *testing.T, r confRequest) confResponse {
		t.Helper()
		args := []string{"call", "-X", r.method}
		for _, h := range r.header {
			args = append(args, "-H", h[0]+": "+h[1])
		}
		if r.body != "" {
			args = append(args, "-d", r.body)
		} else if r.method == http.MethodPost {
			// What an HTTP client sends for an empty POST.
			args = append(args, "-H", "Content-Length: 0")
		}
		args = append(args, apps.file(r.app), r.rest)
		cmd := exec.Command(binPath, args...)
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		aborted := errors.As(err, &exit) && exit.ExitCode() == 1 && strings.Contains(stderr.String(), "aborted")
		if err != nil && !aborted {
			t.Fatalf("lsgi %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if m := crashRE.Find(stderr.Bytes()); m != nil {
			t.Errorf("lsgi call crashed or raced: %s\n%s", m, stderr.String())
		}
		return parseCallOutput(t, stdout.String(), aborted)
	}
}

// parseCallOutput reads what `lsgi call` prints: "HTTP/1.1 200 OK", the
// headers one a line, an empty line, the body.
func parseCallOutput(t *testing.T, out string, aborted bool) confResponse {
	t.Helper()
	head, body, ok := strings.Cut(out, "\n\n")
	lines := strings.Split(head, "\n")
	status := strings.SplitN(lines[0], " ", 3)
	if !ok || len(status) != 3 {
		t.Fatalf("lsgi call printed %q", out)
	}
	code, err := strconv.Atoi(status[1])
	if err != nil {
		t.Fatalf("lsgi call: status line %q", lines[0])
	}
	r := confResponse{status: code, reason: status[2], header: http.Header{}, body: body, truncated: aborted}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("lsgi call: header line %q", l)
		}
		r.header.Add(name, value)
	}
	return r
}

// startLsgitestHost runs each app with package lsgitest, the way an app's
// Go tests would: mounted at /, with the validator on.
func startLsgitestHost(t *testing.T, apps *confApps) confDo {
	loaded := map[string]*lsgitest.App{}
	for _, name := range apps.names {
		loaded[name] = lsgitest.New(t, apps.file(name))
	}
	return func(t *testing.T, r confRequest) confResponse {
		t.Helper()
		app := loaded[r.app]
		target := r.rest
		if target == "" {
			target = "/"
		}
		res := app.Do(clientRequest(r, target))
		if t.Failed() {
			t.Logf("app log:\n%s", app.Log())
		}
		return recorded(res.ResponseRecorder, res.Aborted)
	}
}

// clientRequest builds r as an in-process request for target, with the
// headers a client would send.
func clientRequest(r confRequest, target string) *http.Request {
	var body io.Reader
	if r.body != "" || r.method == http.MethodPost {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, target, body)
	for _, hv := range r.header {
		req.Header.Add(hv[0], hv[1])
	}
	// httptest.NewRequest sets only req.ContentLength; a client also
	// sends the header, which is what CONTENT_LENGTH comes from.
	switch {
	case r.chunked:
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	case body != nil:
		req.Header.Set("Content-Length", strconv.Itoa(len(r.body)))
	}
	return req
}

// recorded is what a recorder holds, as a client would have seen it.
func recorded(rec *httptest.ResponseRecorder, aborted bool) confResponse {
	res := rec.Result()
	_, reason, _ := strings.Cut(res.Status, " ")
	return confResponse{status: res.StatusCode, reason: reason, header: res.Header, body: rec.Body.String(), truncated: aborted}
}

// startGoAPIHost serves the apps in process with host.New and records
// each response with httptest, as an app's Go tests would.
func startGoAPIHost(t *testing.T, apps *confApps) confDo {
	log := newLogBuffer()
	h, err := host.New(host.Config{
		Plugins: []host.PluginSource{host.Folder{Path: apps.dir}},
		Logger:  slog.New(slog.NewTextHandler(&lockedLog{w: &lineWriter{buf: log}}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", log)
		}
	})
	return func(t *testing.T, r confRequest) confResponse {
		t.Helper()
		rec := httptest.NewRecorder()
		err := transport.Catch(h, rec, clientRequest(r, "/"+r.app+r.rest))
		if err != nil && !errors.Is(err, host.ErrAborted) {
			t.Fatal(err)
		}
		return recorded(rec, err != nil)
	}
}

// startEmbedHost runs the examples/embed program, which serves a plugins
// folder under /plugins/ beside its own handlers.
func startEmbedHost(t *testing.T, apps *confApps) confDo {
	c := startChild(t, "examples/embed", filepath.Dir(apps.dir), nil, embedBinary(t), "-addr", "127.0.0.1:0", "-plugins", apps.dir)
	addr := c.waitLine(t, listeningRE)[1]
	return netDo(testClient(t, ""), "http://"+addr+"/plugins")
}

// startSeamHost serves the apps in process through the transport of
// seam_test.go, which drives the host's lower seam with no net/http on its
// path, under the root /seam.
func startSeamHost(t *testing.T, apps *confApps) confDo {
	log := newLogBuffer()
	h, err := host.New(host.Config{
		Plugins: []host.PluginSource{host.Folder{Path: apps.dir}},
		Root:    "/seam",
		Logger:  slog.New(slog.NewTextHandler(&lockedLog{w: &lineWriter{buf: log}}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		if t.Failed() {
			t.Logf("host log:\n%s", log)
		}
	})
	s := startSeamServer(t, h)
	return netDo(testClient(t, ""), "http://"+s.ln.Addr().String()+"/seam")
}
