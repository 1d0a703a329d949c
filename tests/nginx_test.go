package tests

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// These tests put a real nginx in front of `lsgi serve`, over HTTP
// (proxy_pass) and over FastCGI (fastcgi_pass), with the configurations
// docs/http.md and docs/fastcgi.md give. Clients connect from 127.0.0.2 where
// the test needs the client's address to differ from nginx's own 127.0.0.1.

// ngxEnviron is the environ as env.lua dumps it.
type ngxEnviron map[string]string

// ngxEnv sends GET url with the given headers (name, value pairs) and
// parses env.lua's answer.
func ngxEnv(t *testing.T, client *http.Client, url string, header ...string) ngxEnviron {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %q (%v)", url, resp.StatusCode, body, err)
	}
	env := ngxEnviron{}
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	return env
}

// check compares the environ with want, where a value of "<absent>" means
// the key must be missing and "<any>" that it must be present.
func (e ngxEnviron) check(t *testing.T, want map[string]string) {
	t.Helper()
	for k, w := range want {
		v, ok := e[k]
		switch {
		case w == "<absent>" && ok:
			t.Errorf("%s = %q, want it absent", k, v)
		case w == "<absent>":
		case !ok:
			t.Errorf("%s is absent, want %q", k, w)
		case w != "<any>" && v != w:
			t.Errorf("%s = %q, want %q", k, v, w)
		}
	}
}

// ngxGet sends GET url and returns status and body.
func ngxGet(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Do(ngxRequest(t, "GET", url))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// ngxRequest builds a request without a body.
func ngxRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestNginxProxy runs nginx with proxy_pass in front of two lsgi servers:
// /app/ (mounted with --root /app, trusting nginx on 127.0.0.1 by default)
// and /untrusted/ (--forwarded-allow-ips 10.9.9.9, so nginx is not
// trusted), with nginx listening for HTTP and HTTPS.
func TestNginxProxy(t *testing.T) {
	lookTool(t, "nginx", "nginx-light") // skip before starting anything
	apps := newConfApps(t)
	trusted := startServerFiles(t, "conformance", apps.seeds, "--access-log", "off", "--root", "/app")
	untrusted := startServerFiles(t, "conformance", apps.seeds, "--access-log", "off", "--root", "/untrusted",
		"--forwarded-allow-ips", "10.9.9.9")
	ng := startNginx(t, proxyLocation("/app", trusted.addr)+proxyLocation("/untrusted", untrusted.addr), true)
	client := testClient(t, "127.0.0.2")

	t.Run("trusted proxy, http", func(t *testing.T) {
		ngxEnv(t, client, ng.base+"/app/env/x?q=1").check(t, map[string]string{
			"SCRIPT_NAME":     "/app/env",
			"PATH_INFO":       "/x",
			"QUERY_STRING":    "q=1",
			"REQUEST_URI":     "/app/env/x?q=1",
			"REMOTE_ADDR":     "127.0.0.2", // the client nginx saw, from X-Forwarded-For
			"REMOTE_PORT":     "<absent>",  // that was nginx's port
			"lsgi.proxy_addr": "127.0.0.1", // nginx itself
			"lsgi.url_scheme": "http",
			"HTTPS":           "<absent>",
			"SERVER_NAME":     "127.0.0.1", // from X-Forwarded-Host: $host:$server_port
			"SERVER_PORT":     ng.port,
			"HTTP_HOST":       "127.0.0.1:" + ng.port,
		})
	})
	t.Run("trusted proxy, https", func(t *testing.T) {
		ngxEnv(t, client, ng.tlsBase+"/app/env/x").check(t, map[string]string{
			"REMOTE_ADDR":     "127.0.0.2",
			"lsgi.url_scheme": "https", // from X-Forwarded-Proto
			"HTTPS":           "on",
			"SERVER_PORT":     ng.tlsPort,
		})
	})
	t.Run("trusted proxy, client forges X-Forwarded-*", func(t *testing.T) {
		// nginx appends the address it saw to the client's
		// X-Forwarded-For and replaces its X-Forwarded-Proto: lsgi takes
		// the last address, which the client cannot choose.
		ngxEnv(t, client, ng.base+"/app/env", "X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "https").check(t, map[string]string{
			"REMOTE_ADDR":          "127.0.0.2",
			"lsgi.url_scheme":      "http",
			"HTTP_X_FORWARDED_FOR": "203.0.113.9, 127.0.0.2",
		})
	})
	t.Run("untrusted proxy", func(t *testing.T) {
		ngxEnv(t, client, ng.tlsBase+"/untrusted/env/x").check(t, map[string]string{
			"SCRIPT_NAME":            "/untrusted/env",
			"PATH_INFO":              "/x",
			"REMOTE_ADDR":            "127.0.0.1", // nginx, the TCP peer
			"REMOTE_PORT":            "<any>",
			"lsgi.proxy_addr":        "<absent>",
			"lsgi.url_scheme":        "http",
			"HTTPS":                  "<absent>",
			"SERVER_NAME":            "127.0.0.1",
			"SERVER_PORT":            untrusted.port, // lsgi's own listener
			"HTTP_X_FORWARDED_FOR":   "127.0.0.2",    // visible, not believed
			"HTTP_X_FORWARDED_PROTO": "https",
		})
	})
	t.Run("prefix mount", func(t *testing.T) {
		for _, tc := range []struct{ path, scriptName, pathInfo string }{
			{"/app/env", "/app/env", ""},
			{"/app/env/", "/app/env", "/"},
			{"/app/env/a%20b/c", "/app/env", "/a b/c"},
		} {
			ngxEnv(t, client, ng.base+tc.path).check(t, map[string]string{"SCRIPT_NAME": tc.scriptName, "PATH_INFO": tc.pathInfo})
		}
		if status, body := ngxGet(t, client, ng.base+"/app/simple_app"); status != 200 || body != "Hello world!\n" {
			t.Errorf("GET /app/simple_app = %d %q", status, body)
		}
		if status, body := ngxGet(t, client, ng.base+"/app/nosuch"); status != 404 || body != "404 Not Found\n" {
			t.Errorf("GET /app/nosuch = %d %q, want lsgi's 404", status, body)
		}
		if status, body := ngxGet(t, client, ng.base+"/elsewhere"); status != 404 || !strings.Contains(body, "nginx") {
			t.Errorf("GET /elsewhere = %d %q, want nginx's own 404", status, body)
		}
	})
}

// TestNginxFastCGI runs nginx with fastcgi_pass in front of `lsgi serve
// --fastcgi`: over TCP at /app/ (--root /app), over a Unix socket at
// /sock/ (--root /sock), and at /untrusted/ an lsgi that trusts no
// forwarding headers from 127.0.0.1.
func TestNginxFastCGI(t *testing.T) {
	lookTool(t, "nginx", "nginx-light")
	apps := newConfApps(t)
	tcp := startFastCGI(t, apps.dir, "127.0.0.1:0", "--root", "/app")
	unix := startFastCGI(t, apps.dir, "unix:"+filepath.Join(socketDir(t), "lsgi.sock"), "--root", "/sock")
	untrusted := startFastCGI(t, apps.dir, "127.0.0.1:0", "--root", "/untrusted", "--forwarded-allow-ips", "10.9.9.9")
	ng := startNginx(t, fastCGILocation("/app", tcp)+fastCGILocation("/sock", unix)+fastCGILocation("/untrusted", untrusted)+
		// A front server that passes no HTTP_* headers (as with
		// fastcgi_pass_request_headers off) sends CONTENT_LENGTH alone.
		"    location = /app/body/no-headers {\n"+
		"      include /etc/nginx/fastcgi_params;\n"+
		"      fastcgi_pass_request_headers off;\n"+
		"      fastcgi_pass "+tcp+";\n"+
		"    }\n", true)
	remote := testClient(t, "127.0.0.2")
	local := testClient(t, "")

	for _, mount := range []string{"/app", "/sock"} {
		t.Run("prefix mount "+mount, func(t *testing.T) {
			for _, tc := range []struct{ path, pathInfo string }{
				{"/env", ""},
				{"/env/", "/"},
				{"/env/a%20b/c?q=1", "/a b/c"},
			} {
				ngxEnv(t, remote, ng.base+mount+tc.path).check(t, map[string]string{
					"SCRIPT_NAME":     mount + "/env",
					"PATH_INFO":       tc.pathInfo,
					"REMOTE_ADDR":     "127.0.0.2", // nginx's REMOTE_ADDR parameter
					"REMOTE_PORT":     "<any>",
					"SERVER_NAME":     "localhost", // nginx's server_name
					"SERVER_PORT":     ng.port,
					"lsgi.url_scheme": "http",
					"lsgi.run_once":   "false",
				})
			}
			if status, body := ngxGet(t, remote, ng.base+mount+"/simple_app"); status != 200 || body != "Hello world!\n" {
				t.Errorf("GET %s/simple_app = %d %q", mount, status, body)
			}
		})
	}
	t.Run("https", func(t *testing.T) {
		ngxEnv(t, remote, ng.tlsBase+"/app/env").check(t, map[string]string{
			"lsgi.url_scheme": "https", // from nginx's HTTPS parameter
			"HTTPS":           "on",
			"SERVER_PORT":     ng.tlsPort,
			"REMOTE_ADDR":     "127.0.0.2",
		})
	})
	// Over FastCGI, REMOTE_ADDR is the client nginx reports, so the
	// forwarding headers count only when that client is itself a trusted
	// proxy (one in front of nginx), here played by a client on 127.0.0.1.
	t.Run("forwarded from a trusted peer", func(t *testing.T) {
		ngxEnv(t, local, ng.base+"/app/env", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https").check(t, map[string]string{
			"REMOTE_ADDR":     "198.51.100.7",
			"lsgi.proxy_addr": "127.0.0.1",
			"lsgi.url_scheme": "https",
		})
	})
	t.Run("forwarded from an untrusted peer", func(t *testing.T) {
		ngxEnv(t, remote, ng.base+"/app/env", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https").check(t, map[string]string{
			"REMOTE_ADDR":          "127.0.0.2",
			"lsgi.url_scheme":      "http",
			"HTTP_X_FORWARDED_FOR": "198.51.100.7",
		})
		ngxEnv(t, local, ng.base+"/untrusted/env", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https").check(t, map[string]string{
			"REMOTE_ADDR":     "127.0.0.1",
			"lsgi.url_scheme": "http",
		})
	})
	t.Run("Content-Length: 0", func(t *testing.T) {
		for _, tc := range []struct{ path, contentLength string }{
			{"/app/body", "0"},              // nginx also passes HTTP_CONTENT_LENGTH
			{"/app/body/no-headers", "nil"}, // net/http/fcgi reads CONTENT_LENGTH "0" as no body
		} {
			resp, err := local.Do(ngxRequest(t, "POST", ng.base+tc.path))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := "content_length=" + tc.contentLength + "\n"; !strings.Contains(string(body), want) {
				t.Errorf("POST %s with an empty body: %q, want a line %q", tc.path, body, want)
			}
		}
	})
}
