package tests

import (
	"encoding/hex"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// envValue is one environ entry as the echo fixture reports it.
type envValue struct {
	kind  string // the Lua type
	value string // the string, tostring() of a boolean, "1,0" for lsgi.version
}

// environ is the environ an echo fixture saw.
type environ map[string]envValue

// parseEnviron reads the echo fixture's "<key hex> <type> <value hex>" lines.
func parseEnviron(t *testing.T, body string) environ {
	t.Helper()
	env := environ{}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 {
			t.Fatalf("echo: bad line %q in %q", line, body)
		}
		k, err1 := hex.DecodeString(f[0])
		v, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("echo: bad line %q", line)
		}
		env[string(k)] = envValue{kind: f[1], value: string(v)}
	}
	return env
}

func (e environ) String() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString("\n    " + k + " (" + e[k].kind + ") = ")
		sb.WriteString(strconv.Quote(e[k].value))
	}
	return sb.String()
}

// want checks that key holds the string value.
func (e environ) want(t *testing.T, key, value string) {
	t.Helper()
	v, ok := e[key]
	switch {
	case !ok:
		t.Errorf("%s is absent, want %q", key, value)
	case v.kind != "string":
		t.Errorf("%s is a %s (%q), want the string %q", key, v.kind, v.value, value)
	case v.value != value:
		t.Errorf("%s = %q, want %q", key, v.value, value)
	}
}

// wantKind checks that key holds a value of the given Lua type and, unless
// value is "", that value.
func (e environ) wantKind(t *testing.T, key, kind, value string) {
	t.Helper()
	v, ok := e[key]
	switch {
	case !ok:
		t.Errorf("%s is absent, want a %s", key, kind)
	case v.kind != kind:
		t.Errorf("%s is a %s, want a %s", key, v.kind, kind)
	case value != "" && v.value != value:
		t.Errorf("%s = %s, want %s", key, v.value, value)
	}
}

// wantAbsent checks that key is absent.
func (e environ) wantAbsent(t *testing.T, key string) {
	t.Helper()
	if v, ok := e[key]; ok {
		t.Errorf("%s = %q (%s), want it absent", key, v.value, v.kind)
	}
}

// wantStrings checks that every CGI key (no ".") holds a string.
func (e environ) wantStrings(t *testing.T) {
	t.Helper()
	for k, v := range e {
		if !strings.Contains(k, ".") && !strings.HasPrefix(k, "@") && v.kind != "string" {
			t.Errorf("%s is a %s, want a string", k, v.kind)
		}
	}
}

// echo sends one raw request and returns the environ the echo fixture saw.
func echo(t *testing.T, c *rawConn, request string) environ {
	t.Helper()
	c.send(request)
	r := c.read(strings.Fields(request)[0])
	if r.StatusCode != http.StatusOK || r.bodyErr != nil {
		t.Fatalf("echo: %d %q (error %v)", r.StatusCode, r.body, r.bodyErr)
	}
	return parseEnviron(t, r.body)
}

// TestEnviron checks the environ an app receives.
func TestEnviron(t *testing.T) {
	s := startServer(t, "environ", "--states", "1")

	t.Run("GET with headers", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, rawRequest("GET", "/echo/x/y?q=%41&x=1", []string{
			"Host: forged.example:9999",
			"X-Test: a",
			"X-Test: b",
			"Cookie: a=1",
			"Cookie: b=2",
			"X-Auth: bob",
			"X_Auth: admin",
			"Content_Length: 99",
			"Transfer_Encoding: chunked",
			"X-Trim:   padded   ",
			"Proxy: http://evil.example",
			"Authorization: Basic eDp5",
			"User-Agent: lsgi-e2e",
		}, ""))
		defer func() {
			if t.Failed() {
				t.Logf("environ:%s", env)
			}
		}()
		env.want(t, "REQUEST_METHOD", "GET")
		env.want(t, "SCRIPT_NAME", "/echo")
		env.want(t, "PATH_INFO", "/x/y")
		env.want(t, "QUERY_STRING", "q=%41&x=1")
		env.want(t, "REQUEST_URI", "/echo/x/y?q=%41&x=1")
		env.want(t, "SERVER_PROTOCOL", "HTTP/1.1")
		env.want(t, "SERVER_PORT", s.port)
		if v := env["SERVER_NAME"]; v.kind != "string" || v.value == "" || strings.Contains(v.value, "forged") {
			t.Errorf("SERVER_NAME = %q (%s), want the listener's name, not the Host header", v.value, v.kind)
		}
		_, localPort, _ := net.SplitHostPort(c.conn.LocalAddr().String())
		env.want(t, "REMOTE_ADDR", "127.0.0.1")
		env.want(t, "REMOTE_PORT", localPort)
		env.want(t, "HTTP_HOST", "forged.example:9999")
		env.want(t, "HTTP_X_TEST", "a, b")
		env.want(t, "HTTP_COOKIE", "a=1; b=2")
		env.want(t, "HTTP_X_AUTH", "bob")
		env.want(t, "HTTP_X_TRIM", "padded")
		env.want(t, "HTTP_AUTHORIZATION", "Basic eDp5")
		env.want(t, "HTTP_USER_AGENT", "lsgi-e2e")
		env.wantAbsent(t, "HTTP_PROXY")
		env.wantAbsent(t, "CONTENT_TYPE")
		env.wantAbsent(t, "CONTENT_LENGTH")
		env.wantAbsent(t, "HTTP_CONTENT_TYPE")
		env.wantAbsent(t, "HTTP_CONTENT_LENGTH")
		for k, v := range env {
			if strings.Contains(v.value, "admin") || v.value == "99" {
				t.Errorf("%s = %q: a header whose name holds '_' got through", k, v.value)
			}
		}
		env.wantAbsent(t, "HTTP_TRANSFER_ENCODING")
		env.wantKind(t, "lsgi.version", "table", "1,0")
		env.want(t, "lsgi.url_scheme", "http")
		env.wantKind(t, "lsgi.multithread", "boolean", "false")
		env.wantKind(t, "lsgi.multiprocess", "boolean", "true")
		env.wantKind(t, "lsgi.run_once", "boolean", "false")
		env.wantKind(t, "lsgi.input_terminated", "boolean", "true")
		for _, k := range []string{"lsgi.input", "lsgi.errors"} {
			if v, ok := env[k]; !ok || (v.kind != "userdata" && v.kind != "table") {
				t.Errorf("%s is %q, want an object (userdata or table)", k, v.kind)
			}
		}
		env.wantKind(t, "@metatable", "nil", "")
		env.wantKind(t, "@body", "string", "")
		env.wantStrings(t)
	})

	t.Run("fresh environ per request", func(t *testing.T) {
		c := s.dial(t)
		echo(t, c, rawRequest("GET", "/echo/first", nil, ""))
		env := echo(t, c, rawRequest("GET", "/echo/second", nil, ""))
		env.wantAbsent(t, "LEAKED")
		env.want(t, "PATH_INFO", "/second")
	})

	t.Run("POST with a body", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, rawRequest("POST", "/echo", []string{
			"Content-Type: application/x-www-form-urlencoded",
			"Content-Length: 7",
		}, "a=1&b=2"))
		env.want(t, "REQUEST_METHOD", "POST")
		env.want(t, "CONTENT_TYPE", "application/x-www-form-urlencoded")
		env.want(t, "CONTENT_LENGTH", "7")
		env.wantAbsent(t, "HTTP_CONTENT_TYPE")
		env.wantAbsent(t, "HTTP_CONTENT_LENGTH")
		env.wantKind(t, "@body", "string", "a=1&b=2")
		env.wantStrings(t)
	})

	t.Run("POST with Content-Length 0", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, rawRequest("POST", "/echo", []string{"Content-Length: 0"}, ""))
		env.want(t, "CONTENT_LENGTH", "0")
		env.wantAbsent(t, "CONTENT_TYPE")
		env.wantKind(t, "@body", "string", "")
	})

	t.Run("chunked POST", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, rawRequest("POST", "/echo", []string{
			"Content-Type: text/plain",
			"Transfer-Encoding: chunked",
		}, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
		env.wantAbsent(t, "CONTENT_LENGTH")
		env.want(t, "CONTENT_TYPE", "text/plain")
		env.wantKind(t, "lsgi.input_terminated", "boolean", "true")
		env.wantKind(t, "@body", "string", "hello world")
	})

	t.Run("chunked POST with a Content-Length too", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, rawRequest("POST", "/echo", []string{
			"Content-Length: 3",
			"Transfer-Encoding: chunked",
		}, "5\r\nhello\r\n0\r\n\r\n"))
		env.wantAbsent(t, "CONTENT_LENGTH")
		env.wantAbsent(t, "HTTP_CONTENT_LENGTH")
		env.wantKind(t, "@body", "string", "hello")
	})

	t.Run("absolute-form target", func(t *testing.T) {
		c := s.dial(t)
		target := "http://other.example:81/echo/p?x=1"
		env := echo(t, c, rawRequest("GET", target, []string{"Host: ignored.example"}, ""))
		env.want(t, "HTTP_HOST", "other.example:81")
		env.want(t, "SCRIPT_NAME", "/echo")
		env.want(t, "PATH_INFO", "/p")
		env.want(t, "QUERY_STRING", "x=1")
		env.want(t, "REQUEST_URI", target)
	})

	t.Run("OPTIONS * reaches no app", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("OPTIONS", "*", nil, ""))
		if r := c.read("OPTIONS"); r.body != "" {
			t.Errorf("OPTIONS *: %d %q, want no app output (the index app echoes)", r.StatusCode, r.body)
		}
	})

	t.Run("method as received", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, rawRequest("FOO", "/echo", nil, ""))
		env.want(t, "REQUEST_METHOD", "FOO")
	})

	t.Run("HTTP/1.0 without Host", func(t *testing.T) {
		c := s.dial(t)
		env := echo(t, c, "GET /echo/old HTTP/1.0\r\n\r\n")
		env.want(t, "SERVER_PROTOCOL", "HTTP/1.0")
		env.want(t, "PATH_INFO", "/old")
		env.wantAbsent(t, "HTTP_HOST")
		if v := env["SERVER_NAME"]; v.kind != "string" || v.value == "" {
			t.Errorf("SERVER_NAME = %q (%s), want a non-empty string", v.value, v.kind)
		}
		env.want(t, "SERVER_PORT", s.port)
	})
}

// TestMounts checks how a path picks its plugin and splits into SCRIPT_NAME
// and PATH_INFO, percent-decoding included.
func TestMounts(t *testing.T) {
	s := startServer(t, "environ", "--states", "1")
	for _, tc := range []struct {
		target, script, path, query string
	}{
		{"/echo", "/echo", "", ""},
		{"/echo/", "/echo", "/", ""},
		{"/echo/x/y", "/echo", "/x/y", ""},
		{"/echo?a=1", "/echo", "", "a=1"},
		{"/echo/x?", "/echo", "/x", ""},
		{"/echo/?a=%41+b&c", "/echo", "/", "a=%41+b&c"},
		{"/echoes/x", "", "/echoes/x", ""},
		{"/", "", "/", ""},
		{"/other/thing", "", "/other/thing", ""},
		{"/pkg", "/pkg", "", ""},
		{"/pkg/sub/", "/pkg", "/sub/", ""},
		{"/echo/%C3%A9", "/echo", "/\xc3\xa9", ""},
		{"/echo/a%20b+c", "/echo", "/a b+c", ""},
		{"/echo/a%2Fb?x=%2F", "/echo", "/a/b", "x=%2F"},
		{"/echo/%80%ff%00", "/echo", "/\x80\xff\x00", ""},
		{"/echo/a/../b//c", "/echo", "/a/../b//c", ""},
		{"/echo%2Fx", "", "/echo/x", ""},
	} {
		t.Run(tc.target, func(t *testing.T) {
			env := echo(t, s.dial(t), rawRequest("GET", tc.target, nil, ""))
			env.want(t, "SCRIPT_NAME", tc.script)
			env.want(t, "PATH_INFO", tc.path)
			env.want(t, "QUERY_STRING", tc.query)
			env.want(t, "REQUEST_URI", tc.target)
		})
	}
}
