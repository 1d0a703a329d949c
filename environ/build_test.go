package environ_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		desc   string
		target string // request target, sent as GET unless it starts with a method
		mount  string
		is     error // nil: an error that is neither ErrNotMounted nor ErrBadTarget
	}{
		{"not a segment", "/application", "/app", environ.ErrNotMounted},
		{"escaped slash", "/app%2Fx", "/app", environ.ErrNotMounted},
		{"above the mount", "/", "/app", environ.ErrNotMounted},
		{"shorter", "/ap", "/app", environ.ErrNotMounted},
		{"case differs", "/APP/x", "/app", environ.ErrNotMounted},
		{"hex case differs", "/caf%c3%a9/x", "/caf%C3%A9", environ.ErrNotMounted},
		{"asterisk", "OPTIONS *", "", environ.ErrBadTarget},
		{"connect", "CONNECT example.com:443", "", environ.ErrBadTarget},
		{"fragment in path", "/a#b", "", environ.ErrBadTarget},
		{"fragment in query", "/a?b#c", "", environ.ErrBadTarget},
		{"opaque", "GET mailto:x", "", environ.ErrBadTarget},
		{"mount slash", "/x", "/", nil},
		{"mount relative", "/app/x", "app", nil},
		{"mount trailing slash", "/app/x", "/app/", nil},
		{"mount decodes to trailing slash", "/a%2F/x", "/a%2F", nil},
		{"mount malformed", "/x", "/a%zz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			line := tt.target
			if strings.HasPrefix(line, "/") {
				line = "GET " + line
			}
			r := readRequest(t, line+" HTTP/1.1\r\nHost: example.com\r\n\r\n")
			dst := environ.Vars{{Name: "KEEP", Value: "1"}}
			got, err := buildHTTP(dst, r, tt.mount, nil)
			if err == nil {
				t.Fatalf("Build = %v, want an error", got)
			}
			if !strings.HasPrefix(err.Error(), "environ: ") {
				t.Errorf("error %q does not start with \"environ: \"", err)
			}
			if !slices.Equal(got, dst) {
				t.Errorf("Build changed dst on error: %v", got)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("Build error = %v, want %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, environ.ErrNotMounted) || errors.Is(err, environ.ErrBadTarget)) {
				t.Fatalf("Build error = %v, want a mount-prefix error", err)
			}
		})
	}
}

func TestBuildMalformedMountWrapsCause(t *testing.T) {
	r := readRequest(t, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	_, err := buildHTTP(nil, r, "/a%zz", nil)
	var ee environ.EscapeError
	if !errors.As(err, &ee) || ee != "%zz" {
		t.Fatalf("Build error = %v, want it to wrap EscapeError %%zz", err)
	}
}

// TestBuildInProcess covers requests built in process rather than parsed:
// header names that are not canonical, missing fields, and a nil Gateway.
func TestBuildInProcess(t *testing.T) {
	base := func() *http.Request {
		return &http.Request{
			Method:     "GET",
			URL:        &url.URL{Path: "/p"},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1, ProtoMinor: 1,
			Header:     http.Header{},
			Host:       "example.com",
			RemoteAddr: "192.0.2.1:1234",
			RequestURI: "/p",
		}
	}
	tests := []struct {
		desc   string
		edit   func(r *http.Request) *http.Request
		gw     *environ.Gateway
		want   map[string]string // "<absent>" for a variable that must be absent
		oneOf  map[string][]string
		noDups bool
	}{
		{
			desc: "nil gateway and no listener",
			edit: func(r *http.Request) *http.Request { return r },
			want: map[string]string{"SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_SOFTWARE": "<absent>",
				"PATH_INFO": "/p", "REQUEST_URI": "/p", "HTTP_HOST": "example.com"},
		},
		{
			desc: "empty method, proto and request URI",
			edit: func(r *http.Request) *http.Request {
				r.Method, r.Proto, r.ProtoMajor, r.ProtoMinor, r.RequestURI = "", "", 0, 0, ""
				return r
			},
			want: map[string]string{"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_URI": "<absent>"},
		},
		{
			desc: "proto from version numbers",
			edit: func(r *http.Request) *http.Request {
				r.Proto, r.ProtoMajor, r.ProtoMinor = "", 1, 0
				return r
			},
			want: map[string]string{"SERVER_PROTOCOL": "HTTP/1.0"},
		},
		{
			desc: "unusual proto version",
			edit: func(r *http.Request) *http.Request {
				r.Proto, r.ProtoMajor, r.ProtoMinor = "", 3, 0
				return r
			},
			want: map[string]string{"SERVER_PROTOCOL": "HTTP/3.0"},
		},
		{
			desc: "no remote address or host",
			edit: func(r *http.Request) *http.Request {
				r.RemoteAddr, r.Host = "", ""
				return r
			},
			want: map[string]string{"REMOTE_ADDR": "<absent>", "REMOTE_PORT": "<absent>", "HTTP_HOST": "<absent>"},
		},
		{
			desc: "remote address with empty port",
			edit: func(r *http.Request) *http.Request {
				r.RemoteAddr = "192.0.2.1:"
				return r
			},
			want: map[string]string{"REMOTE_ADDR": "192.0.2.1", "REMOTE_PORT": "<absent>"},
		},
		{
			desc: "absolute URL with empty path",
			edit: func(r *http.Request) *http.Request {
				r.URL = &url.URL{Scheme: "http", Host: "h"}
				return r
			},
			want: map[string]string{"PATH_INFO": "/"},
		},
		{
			desc: "lower-case content headers stay un-prefixed",
			edit: func(r *http.Request) *http.Request {
				r.Header["content-type"] = []string{"text/plain"}
				r.Header["content-length"] = []string{"3"}
				return r
			},
			want: map[string]string{"CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "3",
				"HTTP_CONTENT_TYPE": "<absent>", "HTTP_CONTENT_LENGTH": "<absent>"},
		},
		{
			desc: "content length with transfer-encoding",
			edit: func(r *http.Request) *http.Request {
				r.Header["Content-Length"] = []string{"3"}
				r.Header["Transfer-Encoding"] = []string{"chunked"}
				r.TransferEncoding = []string{"chunked"}
				return r
			},
			want: map[string]string{"CONTENT_LENGTH": "<absent>", "HTTP_TRANSFER_ENCODING": "<absent>"},
		},
		{
			desc: "content length ignores r.ContentLength",
			edit: func(r *http.Request) *http.Request {
				r.ContentLength = 5
				return r
			},
			want: map[string]string{"CONTENT_LENGTH": "<absent>"},
		},
		{
			desc: "dropped names in any case",
			edit: func(r *http.Request) *http.Request {
				r.Header["proxy"] = []string{"http://evil"}
				r.Header["PROXY"] = []string{"http://evil"}
				r.Header["host"] = []string{"evil"}
				r.Header["Host"] = []string{"evil"}
				r.Header["x_auth"] = []string{"admin"}
				return r
			},
			want: map[string]string{"HTTP_PROXY": "<absent>", "HTTP_HOST": "example.com", "HTTP_X_AUTH": "<absent>"},
		},
		{
			desc: "names that are not tokens are dropped",
			edit: func(r *http.Request) *http.Request {
				r.Header["X Y"] = []string{"1"}
				r.Header["X:Y"] = []string{"1"}
				r.Header["X=Y"] = []string{"1"}
				r.Header["X\x00Y"] = []string{"1"}
				r.Header["X\xe9"] = []string{"1"}
				r.Header[""] = []string{"1"}
				r.Header["X-Ok"] = []string{"1"}
				return r
			},
			want: map[string]string{"HTTP_X_OK": "1"},
		},
		{
			desc: "a header with no values is absent",
			edit: func(r *http.Request) *http.Request {
				r.Header["X-None"] = []string{}
				r.Header["Content-Type"] = nil
				return r
			},
			want: map[string]string{"HTTP_X_NONE": "<absent>", "CONTENT_TYPE": "<absent>"},
		},
		{
			desc: "two spellings of one name are merged",
			edit: func(r *http.Request) *http.Request {
				r.Header["Accept"] = []string{"a"}
				r.Header["accept"] = []string{"b"}
				r.Header["X-Custom"] = []string{"c"}
				r.Header["x-custom"] = []string{"d"}
				r.Header["Cookie"] = []string{"a=1"}
				r.Header["COOKIE"] = []string{"b=2"}
				r.Header["Content-Type"] = []string{"t1"}
				r.Header["CONTENT-TYPE"] = []string{"t2"}
				return r
			},
			oneOf: map[string][]string{
				"HTTP_ACCEPT":   {"a, b", "b, a"},
				"HTTP_X_CUSTOM": {"c, d", "d, c"},
				"HTTP_COOKIE":   {"a=1; b=2", "b=2; a=1"},
				"CONTENT_TYPE":  {"t1", "t2"},
			},
		},
		{
			desc: "gateway name with listener port",
			edit: func(r *http.Request) *http.Request {
				addr := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[::ffff:10.0.0.1]:8081"))
				return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
			},
			gw:   &environ.Gateway{ServerName: "example.org"},
			want: map[string]string{"SERVER_NAME": "example.org", "SERVER_PORT": "8081"},
		},
		{
			desc: "IPv4-mapped listener",
			edit: func(r *http.Request) *http.Request {
				addr := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[::ffff:10.0.0.1]:8081"))
				return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
			},
			want: map[string]string{"SERVER_NAME": "10.0.0.1", "SERVER_PORT": "8081"},
		},
		{
			desc: "other listener address types",
			edit: func(r *http.Request) *http.Request {
				return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, stringAddr("[fe80::1%eth0]:9")))
			},
			gw:   &environ.Gateway{ServerPort: "99"},
			want: map[string]string{"SERVER_NAME": "[fe80::1%eth0]", "SERVER_PORT": "99"},
		},
		{
			desc: "TLS",
			edit: func(r *http.Request) *http.Request {
				r.TLS = &tls.ConnectionState{}
				return r
			},
			want: map[string]string{"HTTPS": "on", "lsgi.url_scheme": "https", "SERVER_PORT": "443"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := tt.edit(base())
			vars, err := buildHTTP(nil, r, "", tt.gw)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if err := environ.Check(vars); err != nil {
				t.Errorf("Check: %v", err)
			}
			for name, want := range tt.want {
				got, ok := vars.Get(name)
				switch {
				case want == "<absent>" && ok:
					t.Errorf("%s = %q, want absent", name, got)
				case want != "<absent>" && (!ok || got != want):
					t.Errorf("%s = %q (present %v), want %q", name, got, ok, want)
				}
			}
			for name, wants := range tt.oneOf {
				if got, _ := vars.Get(name); !slices.Contains(wants, got) {
					t.Errorf("%s = %q, want one of %q", name, got, wants)
				}
			}
			for _, v := range vars {
				if strings.HasPrefix(v.Name, "HTTP_X") && v.Name != "HTTP_X_OK" && v.Name != "HTTP_X_CUSTOM" {
					t.Errorf("unexpected %s=%q", v.Name, v.Value)
				}
			}
		})
	}
}

type stringAddr string

func (a stringAddr) Network() string { return "test" }
func (a stringAddr) String() string  { return string(a) }

// TestBuildHTTPTestRequest pins the in-process trap: httptest.NewRequest
// sets r.ContentLength but no Content-Length header, so no CONTENT_LENGTH.
func TestBuildHTTPTestRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "/app/x?q=1", strings.NewReader("abc"))
	vars, err := buildHTTP(nil, r, "/app", &environ.Gateway{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := vars.Get("CONTENT_LENGTH"); ok {
		t.Errorf("CONTENT_LENGTH = %q, want absent", v)
	}
	r.Header.Set("Content-Length", "3")
	vars, _ = buildHTTP(vars[:0], r, "/app", &environ.Gateway{})
	want := map[string]string{
		"CONTENT_LENGTH": "3", "SCRIPT_NAME": "/app", "PATH_INFO": "/x", "QUERY_STRING": "q=1",
		"SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "example.com", "REMOTE_ADDR": "192.0.2.1",
	}
	for name, w := range want {
		if got, _ := vars.Get(name); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
}

func TestBuildAppends(t *testing.T) {
	r := readRequest(t, "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n")
	dst := make(environ.Vars, 1, 64)
	dst[0] = environ.Var{Name: "EXTRA", Value: "kept"}
	got, err := buildHTTP(dst, r, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != dst[0] || &got[0] != &dst[0] {
		t.Errorf("Build did not append to dst in place")
	}
	if err := environ.Check(got[1:]); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestVarsGet(t *testing.T) {
	vars := environ.Vars{{"A", "1"}, {"B", ""}, {"A", "2"}}
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"A", "1", true},
		{"B", "", true},
		{"C", "", false},
		{"a", "", false},
	}
	for _, tt := range tests {
		if got, ok := vars.Get(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := environ.Vars(nil).Get("A"); ok {
		t.Error("nil Vars has A")
	}
}

// fieldList is a Header as a transport without net/http might give it: the
// fields in the order received, repeats apart.
type fieldList [][2]string

func (l fieldList) VisitFields(v environ.FieldVisitor) {
	for _, f := range l {
		v.Field(f[0], f[1])
	}
}

// TestBuildFieldVisitor builds from a Request filled without net/http.
func TestBuildFieldVisitor(t *testing.T) {
	many := fieldList{}
	for i := range 40 {
		many = append(many, [2]string{fmt.Sprintf("X-Field-%d", i), "v"})
	}
	many = append(many, [2]string{"X-Field-3", "again"}, [2]string{"Accept", "a"}, [2]string{"X-Field-3", "third"}, [2]string{"Accept", "b"})
	tests := []struct {
		desc    string
		fields  fieldList
		chunked bool
		want    map[string]string // "<absent>" for a variable that must be absent
	}{
		{"repeats apart are joined in order", fieldList{{"Accept", "a"}, {"X-A", "1"}, {"Accept", "b"}, {"X-A", "2"}},
			false, map[string]string{"HTTP_ACCEPT": "a, b", "HTTP_X_A": "1, 2"}},
		{"cookies are joined with ;", fieldList{{"Cookie", "a=1"}, {"Accept", "x"}, {"Cookie", "b=2"}},
			false, map[string]string{"HTTP_COOKIE": "a=1; b=2"}},
		{"the first Content-Type wins", fieldList{{"Content-Type", "text/plain"}, {"Content-Type", "text/html"}},
			false, map[string]string{"CONTENT_TYPE": "text/plain"}},
		{"Content-Length when framed by it", fieldList{{"Content-Length", "3"}},
			false, map[string]string{"CONTENT_LENGTH": "3"}},
		{"no Content-Length when chunked", fieldList{{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}},
			true, map[string]string{"CONTENT_LENGTH": "<absent>", "HTTP_TRANSFER_ENCODING": "<absent>"}},
		{"the Host field gives way to Request.Host", fieldList{{"Host", "forged"}},
			false, map[string]string{"HTTP_HOST": "example.com"}},
		{"names in any case share one variable", fieldList{{"accept", "a"}, {"ACCEPT", "b"}, {"x-one", "1"}, {"X-One", "2"}},
			false, map[string]string{"HTTP_ACCEPT": "a, b", "HTTP_X_ONE": "1, 2"}},
		{"dropped names", fieldList{{"X_Auth", "admin"}, {"Proxy", "http://evil"}, {"Bad Name", "x"}},
			false, map[string]string{"HTTP_X_AUTH": "<absent>", "HTTP_PROXY": "<absent>"}},
		{"many names", many, false, map[string]string{"HTTP_X_FIELD_3": "v, again, third", "HTTP_ACCEPT": "a, b", "HTTP_X_FIELD_39": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			req := &environ.Request{Method: "POST", Target: "/app/x?q=1", Path: "/app/x", Query: "q=1", Host: "example.com",
				RemoteAddr: "192.0.2.1:1234", Chunked: tt.chunked, Header: tt.fields}
			vars, err := environ.Build(nil, req, "/app", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := environ.Check(vars); err != nil {
				t.Errorf("Check: %v", err)
			}
			for name, want := range tt.want {
				got, ok := vars.Get(name)
				switch {
				case want == "<absent>" && ok:
					t.Errorf("%s = %q, want absent", name, got)
				case want != "<absent>" && (!ok || got != want):
					t.Errorf("%s = %q (present %v), want %q", name, got, ok, want)
				}
			}
		})
	}
}

// TestBuildFieldVisitorAllocs: a transport that fills a Request itself
// builds an environ with no allocation of its own.
func TestBuildFieldVisitorAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and the race detector change allocation counts")
	}
	req := &environ.Request{Method: "GET", Target: "/app/x", Path: "/app/x", Host: "example.com", RemoteAddr: "192.0.2.1:1234",
		Header: fieldList{{"Accept", "*/*"}, {"User-Agent", "test"}, {"Content-Type", "text/plain"}}}
	gw := &environ.Gateway{ServerName: "example.org", ServerPort: "80"}
	vars, _ := environ.Build(nil, req, "/app", gw)
	if got := testing.AllocsPerRun(100, func() { vars, _ = environ.Build(vars[:0], req, "/app", gw) }); got != 0 {
		t.Errorf("%v allocations, want 0", got)
	}
}
