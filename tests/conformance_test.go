package tests

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The conformance suite runs one set of apps (the seeds' examples of
// examples/seeds and the fixtures of testdata/conformance) under every way
// of hosting them, through one table, and expects the same status, headers
// and body from each. What a transport forces to differ is held as data in
// hostTraits, and listed in docs/running.md.

// hostTraits is what a way of hosting an app does differently.
type hostTraits struct {
	// prefix is the URL path under which the app NAME is mounted, as
	// prefix/NAME; SCRIPT_NAME is then prefix/NAME too.
	prefix string
	// atRoot: the host runs one app, mounted at / (lsgi call), so
	// SCRIPT_NAME is "" and the path is what follows the app's mount.
	atRoot bool
	// remoteAddr is the REMOTE_ADDR apps see.
	remoteAddr string
	// runOnce is lsgi.run_once: true under CGI.
	runOnce bool
	// appReason: the client sees the app's reason phrase rather than the
	// standard one for the code.
	appReason bool
	// date: the response carries a Date header (every real server adds
	// one; an in-process recorder does not).
	date bool
	// abortsUnknownLength: when an app fails after its headers, a client
	// can tell a body of unknown length was cut short. Over FastCGI and
	// CGI the response simply ends, so only a declared Content-Length
	// shows the truncation.
	abortsUnknownLength bool
	// upload is what a chunked request body becomes.
	upload uploadKind
	// lastRepeatedHeader: of a header sent on several lines, the app sees
	// only the last line. nginx 1.22 passes each line as its own FastCGI
	// parameter, and the FastCGI or CGI side keeps the last.
	lastRepeatedHeader bool
	// buffersSmallBodies: the host holds back a body of unknown length
	// while it is under 2 KiB and sends it with a Content-Length (net/http
	// does so for a handler that does not flush, as net/http/cgi's).
	buffersSmallBodies bool
}

// uploadKind says how a request body sent without a length reaches apps.
type uploadKind int

const (
	uploadStreamed uploadKind = iota // CONTENT_LENGTH absent; lsgi.input reads to the end
	uploadBuffered                   // the front server read it all and passes its length
	uploadRejected                   // the host answers 400 (net/http/cgi)
)

// confWant is the response a case expects under one host.
type confWant struct {
	status        int
	reason        string // checked when not ""
	contentType   string
	contentLength string            // "" means no Content-Length header
	header        map[string]string // further headers that must match
	body          string
	truncated     bool
}

// confCase is one row of the table.
type confCase struct {
	name string
	req  confRequest
	want func(h hostTraits) confWant
}

// framed applies the host's framing to what a case wants.
func (h hostTraits) framed(w confWant) confWant {
	if h.buffersSmallBodies && w.contentLength == "" && len(w.body) < 2048 {
		w.contentLength = strconv.Itoa(len(w.body))
		w.truncated = false
	}
	return w
}

// scriptName is the SCRIPT_NAME the app sees under h.
func (h hostTraits) scriptName(app string) string {
	if h.atRoot {
		return ""
	}
	return h.prefix + "/" + app
}

// requestURI is the REQUEST_URI the app sees under h.
func (h hostTraits) requestURI(app, rest string) string {
	if h.atRoot {
		return rest
	}
	return h.prefix + "/" + app + rest
}

// repeated is the value of a header sent on several lines: joined, or
// the last line only where the host keeps only that.
func (h hostTraits) repeated(joined, last string) string {
	if h.lastRepeatedHeader {
		return last
	}
	return joined
}

// confEcho is what echo.lua answers: one line per key, in its order.
func confEcho(lines ...string) string {
	return strings.Join(lines, "\n") + "\n"
}

// confPlain is a text/plain response.
func confPlain(status int, contentLength, body string) confWant {
	return confWant{status: status, contentType: "text/plain", contentLength: contentLength, body: body}
}

// confCases is the shared table.
var confCases = []confCase{
	// The seeds' examples.
	{"simple_app", confRequest{method: "GET", app: "simple_app"},
		func(hostTraits) confWant { return confPlain(200, "13", "Hello world!\n") }},
	{"simple_app HEAD", confRequest{method: "HEAD", app: "simple_app"},
		func(hostTraits) confWant { return confPlain(200, "13", "") }},
	{"appclass (instance)", confRequest{method: "GET", app: "appclass"},
		func(hostTraits) confWant { return confPlain(200, "22", "Hello AppClass.__call\n") }},
	{"appclassiter (class)", confRequest{method: "GET", app: "appclassiter"},
		func(hostTraits) confWant { return confPlain(200, "", "Hello AppClassIter\n") }},
	{"router /hello", confRequest{method: "GET", app: "router", rest: "/hello"},
		func(hostTraits) confWant { return confPlain(200, "5", "Hello") }},
	{"router /world", confRequest{method: "GET", app: "router", rest: "/world"},
		func(hostTraits) confWant { return confPlain(200, "6", "World!") }},
	{"router, no route: 404 with the app's reason phrase", confRequest{method: "GET", app: "router", rest: "/nope"},
		func(h hostTraits) confWant {
			w := confPlain(404, "19", "no route for /nope\n")
			w.reason = "Not Found"
			if h.appReason {
				w.reason = "No Such Route"
			}
			return w
		}},
	{"middleware adds a header", confRequest{method: "GET", app: "middleware"},
		func(hostTraits) confWant {
			w := confPlain(200, "18", "Check the headers!")
			w.header = map[string]string{"X-A-Simple-Token": "1234567890"}
			return w
		}},

	// The environ.
	{"echo GET", confRequest{method: "GET", app: "echo", rest: "/a%20b/caf%C3%A9?x=1&y=%41",
		header: [][2]string{{"X-Seed", "one"}, {"X-Seed", "two"}, {"Cookie", "a=1"}, {"Cookie", "b=2"}}},
		func(h hostTraits) confWant {
			body := confEcho(
				"REQUEST_METHOD=GET",
				"SCRIPT_NAME="+h.scriptName("echo"),
				"PATH_INFO=/a b/café",
				"QUERY_STRING=x=1&y=%41",
				"REQUEST_URI="+h.requestURI("echo", "/a%20b/caf%C3%A9?x=1&y=%41"),
				"CONTENT_TYPE absent",
				"CONTENT_LENGTH absent",
				"SERVER_PROTOCOL=HTTP/1.1",
				"REMOTE_ADDR="+h.remoteAddr,
				"HTTP_X_SEED="+h.repeated("one, two", "two"),
				"HTTP_COOKIE="+h.repeated("a=1; b=2", "b=2"),
				"lsgi.version=1.0",
				"lsgi.url_scheme=http",
				"lsgi.multithread=false",
				"lsgi.multiprocess=true",
				"lsgi.run_once="+strconv.FormatBool(h.runOnce),
				"lsgi.input_terminated=true",
				"body=",
			)
			return confWant{status: 200, contentType: "text/plain; charset=utf-8", contentLength: strconv.Itoa(len(body)), body: body}
		}},
	{"echo POST", confRequest{method: "POST", app: "echo", rest: "/",
		header: [][2]string{{"Content-Type", "text/plain"}}, body: "hi there"},
		func(h hostTraits) confWant {
			body := confEcho(
				"REQUEST_METHOD=POST",
				"SCRIPT_NAME="+h.scriptName("echo"),
				"PATH_INFO=/",
				"QUERY_STRING=",
				"REQUEST_URI="+h.requestURI("echo", "/"),
				"CONTENT_TYPE=text/plain",
				"CONTENT_LENGTH=8",
				"SERVER_PROTOCOL=HTTP/1.1",
				"REMOTE_ADDR="+h.remoteAddr,
				"HTTP_X_SEED absent",
				"HTTP_COOKIE absent",
				"lsgi.version=1.0",
				"lsgi.url_scheme=http",
				"lsgi.multithread=false",
				"lsgi.multiprocess=true",
				"lsgi.run_once="+strconv.FormatBool(h.runOnce),
				"lsgi.input_terminated=true",
				"body=hi there",
			)
			return confWant{status: 200, contentType: "text/plain; charset=utf-8", contentLength: strconv.Itoa(len(body)), body: body}
		}},

	// Streaming: no length is known when the headers go out.
	{"stream", confRequest{method: "GET", app: "stream"},
		func(hostTraits) confWant { return confPlain(200, "", "chunk 1\nchunk 2\nchunk 3\n") }},
	{"stream with write()", confRequest{method: "GET", app: "stream", rest: "/write"},
		func(hostTraits) confWant {
			return confPlain(200, "", "chunk 0 from write\nchunk 1\nchunk 2\nchunk 3\n")
		}},

	// Lua 5.1's semantics, in a file that starts with "#!".
	{"lua51", confRequest{method: "GET", app: "lua51"},
		func(hostTraits) confWant {
			return confPlain(200, "", "swap 2 1\nclosure 1\nerror level 13\n"+
				"yield in pcall false attempt to yield across metamethod/C-call boundary\n")
		}},

	// Request bodies.
	{"body, form", confRequest{method: "POST", app: "body",
		header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: "name=lsgi&x=1"},
		func(hostTraits) confWant {
			return confBody("POST", "application/x-www-form-urlencoded", "13", "read 13 bytes in 4 pieces: name=lsgi&x=1")
		}},
	{"body, empty with Content-Length: 0", confRequest{method: "POST", app: "body"},
		func(hostTraits) confWant { return confBody("POST", "nil", "0", "read 0 bytes in 0 pieces: ") }},
	{"body, none", confRequest{method: "GET", app: "body"},
		func(hostTraits) confWant { return confBody("GET", "nil", "nil", "read 0 bytes in 0 pieces: ") }},
	{"body, chunked upload", confRequest{method: "POST", app: "body",
		header: [][2]string{{"Content-Type", "text/plain"}}, body: "hello chunks", chunked: true},
		func(h hostTraits) confWant {
			switch h.upload {
			case uploadBuffered:
				return confBody("POST", "text/plain", "12", "read 12 bytes in 3 pieces: hello chunks")
			case uploadRejected:
				return confWant{status: 400, contentType: "text/plain; charset=utf-8", contentLength: "48",
					body: "Chunked request bodies are not supported by CGI."}
			}
			return confBody("POST", "text/plain", "nil", "read 12 bytes in 3 pieces: hello chunks")
		}},

	// App errors.
	{"error before the headers: 500", confRequest{method: "GET", app: "broken", rest: "/before"},
		func(hostTraits) confWant {
			return confWant{status: 500, contentType: "text/plain; charset=utf-8", contentLength: "26",
				header: map[string]string{"X-Content-Type-Options": "nosniff"}, body: "500 Internal Server Error\n"}
		}},
	{"error after the headers, unknown length", confRequest{method: "GET", app: "broken", rest: "/after"},
		func(h hostTraits) confWant {
			w := confPlain(200, "", "12345")
			w.truncated = h.abortsUnknownLength
			return w
		}},
	{"error after the headers, declared length", confRequest{method: "GET", app: "broken", rest: "/after-length"},
		func(hostTraits) confWant {
			w := confPlain(200, "10", "12345")
			w.truncated = true
			return w
		}},
}

func confBody(method, contentType, contentLength, read string) confWant {
	body := "method=" + method + "\ncontent_type=" + contentType + "\ncontent_length=" + contentLength + "\n" + read + "\n"
	return confPlain(200, strconv.Itoa(len(body)), body)
}

// confHosts are the ways of hosting the apps.
var confHosts = []struct {
	name   string
	traits hostTraits
	start  func(t *testing.T, apps *confApps) confDo
}{
	{"http", hostTraits{
		remoteAddr: "127.0.0.1", date: true, abortsUnknownLength: true,
		upload: uploadStreamed,
	}, startHTTPHost},
	{"nginx proxy_pass", hostTraits{
		prefix: "/proxy", remoteAddr: "127.0.0.1", date: true, abortsUnknownLength: true,
		upload: uploadBuffered,
	}, startProxyHost},
	{"nginx fastcgi tcp", hostTraits{
		prefix: "/fcgi", remoteAddr: "127.0.0.1", date: true,
		upload: uploadBuffered, lastRepeatedHeader: true,
	}, startFastCGITCPHost},
	{"nginx fastcgi unix", hostTraits{
		prefix: "/fcgi", remoteAddr: "127.0.0.1", date: true,
		upload: uploadBuffered, lastRepeatedHeader: true,
	}, startFastCGIUnixHost},
	{"nginx fcgiwrap cgi", hostTraits{
		prefix: "/cgi", remoteAddr: "127.0.0.1", date: true, runOnce: true, appReason: true,
		upload: uploadBuffered, lastRepeatedHeader: true,
	}, startNginxCGIHost},
	{"go net/http/cgi", hostTraits{
		prefix: "/gocgi", remoteAddr: "127.0.0.1", date: true, runOnce: true,
		upload: uploadRejected, buffersSmallBodies: true,
	}, startGoCGIHost},
	{"lsgi call", hostTraits{
		atRoot: true, remoteAddr: "192.0.2.1", abortsUnknownLength: true,
		upload: uploadBuffered, // -d always sends a length
	}, startCallHost},
	{"go lsgitest", hostTraits{
		atRoot: true, remoteAddr: "192.0.2.1", abortsUnknownLength: true,
		upload: uploadStreamed,
	}, startLsgitestHost},
	{"go host.New", hostTraits{
		remoteAddr: "192.0.2.1", abortsUnknownLength: true,
		upload: uploadStreamed,
	}, startGoAPIHost},
	{"go lower seam, no net/http", hostTraits{
		prefix: "/seam", remoteAddr: "127.0.0.1", appReason: true, abortsUnknownLength: true,
		upload: uploadStreamed,
	}, startSeamHost},
	{"examples/embed", hostTraits{
		prefix: "/plugins", remoteAddr: "127.0.0.1", date: true, abortsUnknownLength: true,
		upload: uploadStreamed,
	}, startEmbedHost},
}

// TestConformance runs every case of confCases under every host.
func TestConformance(t *testing.T) {
	apps := newConfApps(t)
	for _, host := range confHosts {
		t.Run(host.name, func(t *testing.T) {
			t.Parallel()
			if host.name == "http" || host.name == "nginx proxy_pass" {
				// The fast engine writes its own status line, which
				// nginx passes on; net/http's HTTP/1 writer sends the
				// standard phrase.
				host.traits.appReason = testEngine == "fast"
			}
			do := host.start(t, apps)
			for _, tc := range confCases {
				t.Run(tc.name, func(t *testing.T) {
					got := do(t, tc.req)
					checkConf(t, host.traits, host.traits.framed(tc.want(host.traits)), got)
				})
			}
		})
	}
}

// checkConf compares a response with what the case wants under h.
func checkConf(t *testing.T, h hostTraits, want confWant, got confResponse) {
	t.Helper()
	if got.status != want.status {
		t.Errorf("status %d, want %d", got.status, want.status)
	}
	if want.reason != "" && got.reason != want.reason {
		t.Errorf("reason phrase %q, want %q", got.reason, want.reason)
	}
	if v := got.header.Get("Content-Type"); v != want.contentType {
		t.Errorf("Content-Type %q, want %q", v, want.contentType)
	}
	if v := got.header.Get("Content-Length"); v != want.contentLength {
		t.Errorf("Content-Length %q, want %q", v, want.contentLength)
	}
	for name, value := range want.header {
		if v := got.header.Get(name); v != value {
			t.Errorf("%s %q, want %q", name, v, value)
		}
	}
	if hasDate := got.header.Get("Date") != ""; hasDate != h.date {
		t.Errorf("Date header present: %v, want %v", hasDate, h.date)
	}
	if got.body != want.body {
		t.Errorf("body:\n%s\nwant:\n%s", got.body, want.body)
	}
	if got.truncated != want.truncated {
		t.Errorf("client saw a truncated body: %v, want %v", got.truncated, want.truncated)
	}
}

// TestRunWithCGIScript runs examples/seeds/run_with_cgi.sh from a shell, as
// the seed article runs `python gateway.py`: the raw CGI response appears
// on stdout.
func TestRunWithCGIScript(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "examples", "seeds", "run_with_cgi.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LSGI=" + binPath, "GORACE=atexit_sleep_ms=0"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	// The header lines come in no particular order.
	head, body, _ := strings.Cut(stdout.String(), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	sort.Strings(lines[1:])
	got := strings.Join(lines, "|") + "|" + body
	want := "Status: 200 OK|Content-Length: 13|Content-Type: text/plain|Hello world!\n"
	if got != want {
		t.Errorf("stdout:\n%q\nwant (header lines sorted, | for CRLF):\n%q", got, want)
	}
}

// TestEmbedProgram runs examples/embed as a real program: its Go handlers
// and its embedded app, which calls Go and reads a per-request environ
// entry, side by side in one mux.
func TestEmbedProgram(t *testing.T) {
	c := startChild(t, "examples/embed", t.TempDir(), nil, embedBinary(t), "-addr", "127.0.0.1:0")
	addr := c.waitLine(t, listeningRE)[1]
	client := testClient(t, "")
	for _, tc := range []struct {
		path, user string
		status     int
		body       string
	}{
		{"/healthz", "", 200, "ok\n"},
		{"/lua/hello", "ana", 200, "Hello, ana, from Go!\nSCRIPT_NAME=/lua/hello PATH_INFO=\n"},
		{"/lua/hello/x/y", "", 200, "Hello, stranger, from Go!\nSCRIPT_NAME=/lua/hello PATH_INFO=/x/y\n"},
		{"/lua/nope", "", 404, "404 Not Found\n"},
		{"/plugins/echo", "", 404, "404 page not found\n"}, // no -plugins: the mux's own 404
	} {
		req, err := http.NewRequest("GET", "http://"+addr+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.user != "" {
			req.Header.Set("X-User", tc.user)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(body) != tc.body || err != nil {
			t.Errorf("GET %s (X-User %q) = %d %q (%v), want %d %q", tc.path, tc.user, resp.StatusCode, body, err, tc.status, tc.body)
		}
	}
}
