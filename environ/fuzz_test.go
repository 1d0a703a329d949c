package environ_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/cgi"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

// FuzzBuild parses the input as an HTTP/1.x request and checks Build's
// invariants with the root mount and with the request's first path segment
// as the mount, then round-trips the variables through cgi.RequestFromMap.
func FuzzBuild(f *testing.F) {
	seeds := []string{
		// Plain GET at the root.
		"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		// The mount root without and with a trailing slash.
		"GET /app HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /app/ HTTP/1.1\r\nHost: h\r\n\r\n",
		// Escapes: raw and escaped high bytes, %2F, UTF-8, "+", NUL.
		"GET /\x80%80/a%2Fb/%C3%A9/a%20b+c/%00 HTTP/1.1\r\nHost: h\r\n\r\n",
		// An escaped first segment: the mount itself needs decoding.
		"GET /caf%C3%A9/x HTTP/1.1\r\nHost: h\r\n\r\n",
		// A first segment that decodes to a trailing slash.
		"GET /a%2F/x HTTP/1.1\r\nHost: h\r\n\r\n",
		// No normalisation of dot segments and doubled slashes.
		"GET /a/../b//c HTTP/1.1\r\nHost: h\r\n\r\n",
		// Raw query, with escapes and a bare "?".
		"GET /x?q=%41&x=1+2 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /x? HTTP/1.1\r\nHost: h\r\n\r\n",
		// A fragment, which Build rejects.
		"GET /x#f HTTP/1.1\r\nHost: h\r\n\r\n",
		// Repeated fields, two Cookie lines, "_" and Proxy headers.
		"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-A: 2\r\nCookie: a=1\r\nCookie: b=2\r\nX_A: 3\r\nProxy: p\r\n\r\n",
		// Content-Length framing, and chunked framing without it.
		"POST /f HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc",
		"POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
		// Absolute form, with and without a path.
		"GET http://other:81/p?q HTTP/1.1\r\nHost: ex\r\n\r\n",
		"GET http://other HTTP/1.1\r\nHost: ex\r\n\r\n",
		// HTTP/1.0 without Host; a path that looks like an authority.
		"GET //x/y HTTP/1.0\r\n\r\n",
		// Targets without a path.
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
		// Header names in odd but valid token spellings.
		"GET / HTTP/1.1\r\nHost: h\r\nx-lower: 1\r\nX.Dot: 2\r\n~: 3\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	// The golden requests are seeds too.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			if c, err := parseGolden(string(data)); err == nil {
				f.Add(c.request)
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Skip()
		}
		r.RemoteAddr = "[2001:db8::7]:40000"
		if len(data)%2 == 1 {
			r.TLS = &tls.ConnectionState{HandshakeComplete: true}
		}
		addr := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[::ffff:127.0.0.1]:8080"))
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
		gw := &environ.Gateway{ServerSoftware: "lsgi/fuzz"}

		vars, err := buildHTTP(nil, r, "", gw)
		if err != nil {
			if !errors.Is(err, environ.ErrBadTarget) {
				t.Fatalf("Build at the root: %v, want nil or ErrBadTarget", err)
			}
			return
		}
		checkVars(t, r, vars, "")

		// Mount at the first segment of the escaped path.
		escaped := r.URL.EscapedPath()
		if escaped == "" {
			return // absolute form without a path
		}
		mount := escaped
		if i := strings.IndexByte(escaped[1:], '/'); i >= 0 {
			mount = escaped[:i+1]
		}
		if mount == "/" {
			return
		}
		vars, err = buildHTTP(vars[:0], r, mount, gw)
		decoded, derr := environ.Unescape(mount)
		switch {
		case derr != nil:
			t.Fatalf("mount %q from a parsed path does not decode: %v", mount, derr)
		case strings.HasSuffix(decoded, "/"):
			if err == nil {
				t.Fatalf("Build accepted mount %q, which decodes to %q", mount, decoded)
			}
			return
		case err != nil:
			t.Fatalf("Build with mount %q: %v", mount, err)
		}
		if got, _ := vars.Get("SCRIPT_NAME"); got != decoded {
			t.Fatalf("SCRIPT_NAME = %q, want %q", got, decoded)
		}
		checkVars(t, r, vars, mount)
	})
}

// checkVars checks the invariants of a successful Build.
func checkVars(t *testing.T, r *http.Request, vars environ.Vars, mount string) {
	t.Helper()
	if err := environ.Check(vars); err != nil {
		t.Fatalf("Check (mount %q): %v\n%q", mount, err, vars)
	}
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		if _, dup := m[v.Name]; dup {
			t.Fatalf("%s appears twice", v.Name)
		}
		m[v.Name] = v.Value
		if strings.HasPrefix(v.Name, "HTTP_") && strings.ContainsAny(v.Name, "-abcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("header variable %q has '-' or lower case", v.Name)
		}
	}

	// SCRIPT_NAME..PATH_INFO is the decoded path.
	escaped := r.URL.EscapedPath()
	if escaped == "" {
		escaped = "/"
	}
	want, err := environ.Unescape(escaped)
	if err != nil {
		t.Fatalf("Unescape(%q): %v", escaped, err)
	}
	if got := m["SCRIPT_NAME"] + m["PATH_INFO"]; got != want {
		t.Fatalf("SCRIPT_NAME+PATH_INFO = %q, want %q", got, want)
	}
	if want != r.URL.Path && r.URL.Path != "" {
		t.Fatalf("decoded path %q, net/url says %q", want, r.URL.Path)
	}

	// Round trip through Go's CGI child. Its URL comes from HTTP_HOST and
	// REQUEST_URI, so give it a well-formed host for an origin-form target,
	// and none for an absolute-form target, which carries its own.
	if strings.HasPrefix(m["REQUEST_URI"], "/") {
		m["HTTP_HOST"] = "lsgi.test"
	} else {
		delete(m, "HTTP_HOST")
	}
	r2, err := cgi.RequestFromMap(m)
	if err != nil {
		t.Fatalf("cgi.RequestFromMap: %v\n%q", err, m)
	}
	if r2.Method != m["REQUEST_METHOD"] {
		t.Fatalf("round trip: method %q, want %q", r2.Method, m["REQUEST_METHOD"])
	}
	if got := cmpPath(r2.URL.Path); got != want {
		t.Fatalf("round trip: path %q, want %q", got, want)
	}
	if r2.URL.RawQuery != m["QUERY_STRING"] {
		t.Fatalf("round trip: query %q, want %q", r2.URL.RawQuery, m["QUERY_STRING"])
	}
	if cl, ok := m["CONTENT_LENGTH"]; ok && cl != "" {
		if r2.ContentLength != r.ContentLength {
			t.Fatalf("round trip: content length %d, want %d", r2.ContentLength, r.ContentLength)
		}
	}
	if (r2.TLS != nil) != (r.TLS != nil) {
		t.Fatalf("round trip: TLS %v, want %v", r2.TLS != nil, r.TLS != nil)
	}
}

// cmpPath maps the empty path of an absolute-form target to "/".
func cmpPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
