package tests

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Lua toolkit (lsgi.request, lsgi.response, lsgi.router, lsgi.template,
// the middleware and lsgi.validator) over HTTP, against the real binary
// serving a copy of testdata/toolkit:
//
//	req.lua      lsgi.request and lsgi.response: echo, cookies, JSON
//	routes.lua   lsgi.router: parameters, 404, 405, a mounted sub-router
//	site/        a folder plugin: templates, static files, gzip
//	misuse.lua   contract mistakes for lsgi.validator under --dev
//	boom.lua     lsgi.middleware.errors with its defaults
//
// The module-level tests are Lua files in luabridge/lualib/testdata; these
// check what a client sees.

// tkWait bounds the wait for a change on disk to show in the responses.
const tkWait = 10 * time.Second

// tkEcho is what /req/echo answers.
type tkEcho struct {
	Method           string              `json:"method"`
	ScriptName       string              `json:"script_name"`
	PathInfo         string              `json:"path_info"`
	QueryString      string              `json:"query_string"`
	URL              string              `json:"url"`
	BaseURL          string              `json:"base_url"`
	Args             map[string]string   `json:"args"`
	ArgsAll          map[string][]string `json:"args_all"`
	Cookies          map[string]string   `json:"cookies"`
	HeaderDash       *string             `json:"header_dash"`
	HeaderUnderscore *string             `json:"header_underscore"`
	Form             map[string]string   `json:"form"`
	FormAll          map[string][]string `json:"form_all"`
	Files            map[string][]tkFile `json:"files"`
}

// tkFile is an uploaded file as /req/echo describes it.
type tkFile struct {
	Name        string `json:"name"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Hex         string `json:"hex"`
}

// tkDecode checks that r is a 200 JSON response and decodes its body.
func tkDecode(t *testing.T, what string, r *response, v any) {
	t.Helper()
	r.expectStatus(t, what, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%s: decoding %q: %v", what, r.body, err)
	}
}

// tkMultipart builds a multipart/form-data body from fields (name, value
// pairs, in order) and files.
func tkMultipart(t *testing.T, fields []string, files []tkUpload) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+
			strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(f.filename)+`"`)
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &buf
}

// tkUpload is one file of a multipart body.
type tkUpload struct {
	field, filename, contentType string
	data                         []byte
}

// tkGunzip decompresses a gzip body.
func tkGunzip(t *testing.T, what, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", what, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: gunzip: %v", what, err)
	}
	return string(out)
}

// tkPoll repeats GET path until check accepts the response, for at most
// tkWait, and returns the last response.
func tkPoll(t *testing.T, s *server, path string, check func(*response) bool) (*response, bool) {
	t.Helper()
	deadline := time.Now().Add(tkWait)
	for {
		r := s.get(t, path)
		if check(r) {
			return r, true
		}
		if time.Now().After(deadline) {
			return r, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tkFixture reads a file of testdata/toolkit.
func tkFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "toolkit", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestToolkitRequest checks lsgi.request (query arguments, headers,
// cookies, forms, multipart uploads, JSON) and lsgi.response's cookies.
func TestToolkitRequest(t *testing.T) {
	s := startServer(t, "toolkit")

	t.Run("query arguments", func(t *testing.T) {
		for _, tc := range []struct {
			name, query string
			args        map[string]string
			all         map[string][]string
		}{
			{"none", "", map[string]string{}, map[string][]string{}},
			{"repeated name keeps every value in order", "a=1&a=2&b=x&a=3",
				map[string]string{"a": "1", "b": "x"},
				map[string][]string{"a": {"1", "2", "3"}, "b": {"x"}}},
			{"plus, escapes, UTF-8 and empty values", "tag=%E2%9C%93&tag=a+b&tag=&q=a%26b%3Dc",
				map[string]string{"tag": "✓", "q": "a&b=c"},
				map[string][]string{"tag": {"✓", "a b", ""}, "q": {"a&b=c"}}},
			{"name without =", "flag&x=&flag=on",
				map[string]string{"flag": "", "x": ""},
				map[string][]string{"flag": {"", "on"}, "x": {""}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path := "/req/echo"
				if tc.query != "" {
					path += "?" + tc.query
				}
				var e tkEcho
				tkDecode(t, "GET "+path, s.get(t, path), &e)
				if e.QueryString != tc.query {
					t.Errorf("query_string %q, want %q", e.QueryString, tc.query)
				}
				if !tkMapsEqual(e.Args, tc.args) {
					t.Errorf("args %v, want %v", e.Args, tc.args)
				}
				if len(e.ArgsAll) != len(tc.all) {
					t.Errorf("args_all %v, want %v", e.ArgsAll, tc.all)
				}
				for k, v := range tc.all {
					if !slices.Equal(e.ArgsAll[k], v) {
						t.Errorf("args_all[%q] = %q, want %q", k, e.ArgsAll[k], v)
					}
				}
				wantURL := s.base + path
				if e.URL != wantURL || e.BaseURL != s.base+"/req" {
					t.Errorf("url %q, base_url %q; want %q, %q", e.URL, e.BaseURL, wantURL, s.base+"/req")
				}
			})
		}
	})

	t.Run("headers ignore case and accept _ for -", func(t *testing.T) {
		var e tkEcho
		tkDecode(t, "GET /req/echo", s.request(t, http.MethodGet, "/req/echo", nil, "x-TEST-header", "hi"), &e)
		if e.HeaderDash == nil || *e.HeaderDash != "hi" || e.HeaderUnderscore == nil || *e.HeaderUnderscore != "hi" {
			t.Errorf("header lookups gave %v and %v, want \"hi\" twice", e.HeaderDash, e.HeaderUnderscore)
		}
		if e.Method != "GET" || e.ScriptName != "/req" || e.PathInfo != "/echo" {
			t.Errorf("method %q script_name %q path_info %q", e.Method, e.ScriptName, e.PathInfo)
		}
	})

	t.Run("request cookies", func(t *testing.T) {
		for _, tc := range []struct {
			name, header string
			want         map[string]string
		}{
			{"none", "", map[string]string{}},
			{"several", "a=1; theme=dark; sid=x%20y", map[string]string{"a": "1", "theme": "dark", "sid": "x%20y"}},
			{"first of a name wins, quotes removed", `a=1; b="two"; a=3`, map[string]string{"a": "1", "b": "two"}},
			{"malformed pairs skipped", "good=1; ; =nameless; bad; ok=2", map[string]string{"good": "1", "ok": "2"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var hdr []string
				if tc.header != "" {
					hdr = []string{"Cookie", tc.header}
				}
				var e tkEcho
				tkDecode(t, "GET /req/echo", s.request(t, http.MethodGet, "/req/echo", nil, hdr...), &e)
				if !tkMapsEqual(e.Cookies, tc.want) {
					t.Errorf("cookies %v, want %v", e.Cookies, tc.want)
				}
			})
		}
	})

	t.Run("Set-Cookie from set_cookie and delete_cookie", func(t *testing.T) {
		r := s.get(t, "/req/cookies")
		r.expect(t, "GET /req/cookies", http.StatusOK, "cookies set\n")
		if n := len(r.header.Values("Set-Cookie")); n != 3 {
			t.Fatalf("%d Set-Cookie headers %q, want 3", n, r.header.Values("Set-Cookie"))
		}
		got := map[string]*http.Cookie{}
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			got[c.Name] = c
		}
		if c := got["session"]; c == nil || c.Value != "abc123" || c.Path != "/" || c.MaxAge != 3600 ||
			!c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("session cookie %+v, want abc123, Path=/, Max-Age=3600, HttpOnly, SameSite=Lax", c)
		}
		if c := got["theme"]; c == nil || c.Value != "dark" || c.Path != "" || c.HttpOnly {
			t.Errorf("theme cookie %+v, want a bare dark", c)
		}
		if c := got["old"]; c == nil || c.Value != "" || c.MaxAge >= 0 || !c.Expires.Before(time.Unix(86400, 0)) {
			t.Errorf("old cookie %+v, want an empty value with Max-Age=0 and a 1970 Expires", c)
		}
	})

	t.Run("urlencoded form", func(t *testing.T) {
		body := url.Values{"text": {"a & b"}, "tag": {"x", "y"}}.Encode()
		var e tkEcho
		tkDecode(t, "POST /req/echo", s.request(t, http.MethodPost, "/req/echo", strings.NewReader(body),
			"Content-Type", "application/x-www-form-urlencoded"), &e)
		if e.Form["text"] != "a & b" || e.Form["tag"] != "x" || !slices.Equal(e.FormAll["tag"], []string{"x", "y"}) {
			t.Errorf("form %v, form_all %v", e.Form, e.FormAll)
		}
		if len(e.Files) != 0 {
			t.Errorf("files %v from an urlencoded form", e.Files)
		}
	})

	t.Run("multipart upload with files", func(t *testing.T) {
		binary := []byte("line one\r\n--not-the-boundary\r\n\x00\x01\xfe\xff" + strings.Repeat("z", 5000))
		ctype, body := tkMultipart(t,
			[]string{"title", "Holiday ✓", "tag", "a", "tag", "b"},
			[]tkUpload{
				{"upload", "../../etc/photo.bin", "application/octet-stream", binary},
				{"upload", "notes.txt", "text/plain", []byte("second file")},
				{"empty", "empty.txt", "", nil},
			})
		var e tkEcho
		tkDecode(t, "POST /req/echo", s.request(t, http.MethodPost, "/req/echo", body, "Content-Type", ctype), &e)
		if e.Form["title"] != "Holiday ✓" || !slices.Equal(e.FormAll["tag"], []string{"a", "b"}) {
			t.Errorf("form %v, form_all %v", e.Form, e.FormAll)
		}
		if _, ok := e.Form["upload"]; ok {
			t.Errorf("a file shows in form: %v", e.Form)
		}
		ups := e.Files["upload"]
		if len(ups) != 2 {
			t.Fatalf("files.upload has %d files, want 2: %+v", len(ups), e.Files)
		}
		for i, want := range []struct {
			filename, ctype string
			data            []byte
		}{
			{"photo.bin", "application/octet-stream", binary},
			{"notes.txt", "text/plain", []byte("second file")},
		} {
			f := ups[i]
			data, err := hex.DecodeString(f.Hex)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name != "upload" || f.Filename != want.filename || f.ContentType != want.ctype ||
				f.Size != len(want.data) || !bytes.Equal(data, want.data) {
				t.Errorf("file %d: name %q filename %q type %q size %d (%d bytes), want upload %q %q %d bytes",
					i, f.Name, f.Filename, f.ContentType, f.Size, len(data), want.filename, want.ctype, len(want.data))
			}
		}
		if em := e.Files["empty"]; len(em) != 1 || em[0].Size != 0 || em[0].Filename != "empty.txt" {
			t.Errorf("empty file: %+v", em)
		}
	})

	t.Run("JSON body", func(t *testing.T) {
		for _, tc := range []struct {
			name, ctype, body string
			status            int
			want              string
		}{
			{"null keeps its place", "application/json", `{"items":[1,null,3],"name":"n"}`, 200,
				`{"count":3,"name":"n","second_is_null":true}`},
			{"+json type", "application/vnd.api+json; charset=utf-8", `{"items":[]}`, 200,
				`{"count":0,"second_is_null":false}`},
			{"malformed: 400", "application/json", `{"items":`, 400, "malformed JSON body\n"},
			{"not JSON: 415", "text/plain", `{"items":[]}`, 415, "expected a JSON body (Content-Type: application/json)\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.request(t, http.MethodPost, "/req/json", strings.NewReader(tc.body), "Content-Type", tc.ctype)
				r.expect(t, "POST /req/json", tc.status, tc.want)
			})
		}
	})
}

// tkMapsEqual compares two string maps, nil and empty being equal.
func tkMapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestToolkitRouter checks lsgi.router: parameters, 404, 405 with Allow,
// HEAD, and a mounted router seeing SCRIPT_NAME and PATH_INFO shifted.
func TestToolkitRouter(t *testing.T) {
	s := startServer(t, "toolkit")
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
		allow        string // for 405
	}{
		{"GET", "/routes/users/42", 200, "user 42", ""},
		{"GET", "/routes/users/a%20b", 200, "user a b", ""},
		{"GET", "/routes/users/%C3%A9l%C3%A9a", 200, "user éléa", ""},
		{"GET", "/routes/users/42/posts/7", 200, "user 42 post 7", ""},
		{"DELETE", "/routes/users/42", 200, "deleted 42", ""},
		{"POST", "/routes/users", 201, "created", ""},
		{"HEAD", "/routes/users/42", 200, "", ""},
		{"GET", "/routes/files/a/b.txt", 200, "path=a/b.txt", ""},
		{"GET", "/routes/files/", 200, "path=", ""},

		{"GET", "/routes/files", 404, "Not Found\n", ""},
		{"GET", "/routes/users/", 404, "Not Found\n", ""},
		{"GET", "/routes/users/42/", 404, "Not Found\n", ""},
		{"GET", "/routes/nope", 404, "Not Found\n", ""},
		{"GET", "/routes", 404, "Not Found\n", ""},

		{"PUT", "/routes/users/42", 405, "Method Not Allowed\n", "DELETE, GET, HEAD"},
		{"POST", "/routes/users/42/posts/7", 405, "Method Not Allowed\n", "GET, HEAD"},
		{"GET", "/routes/users?x=1", 405, "Method Not Allowed\n", "POST"},

		// The mount: SCRIPT_NAME grows by the prefix, PATH_INFO loses it.
		{"GET", "/routes/api/v1/items/9", 200, "item 9 SCRIPT_NAME=/routes/api/v1 PATH_INFO=/items/9", ""},
		{"GET", "/routes/api/v1", 200, "api root SCRIPT_NAME=/routes/api/v1 PATH_INFO=", ""},
		{"GET", "/routes/api/v1/", 200, "api root SCRIPT_NAME=/routes/api/v1 PATH_INFO=/", ""},
		{"GET", "/routes/api/v1/./items/9", 200, "item 9 SCRIPT_NAME=/routes/api/v1 PATH_INFO=/items/9", ""},
		{"GET", "/routes/api/v1x", 404, "Not Found\n", ""},
		{"GET", "/routes/api/v1/items", 404, "Not Found\n", ""},
		{"POST", "/routes/api/v1/items/9", 405, "Method Not Allowed\n", "GET, HEAD"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := s.request(t, tc.method, tc.path, nil)
			r.expect(t, tc.method+" "+tc.path, tc.status, tc.body)
			if allow := r.header.Get("Allow"); allow != tc.allow {
				t.Errorf("Allow %q, want %q", allow, tc.allow)
			}
			if tc.method == "HEAD" && r.header.Get("Content-Length") != "7" {
				t.Errorf("HEAD: Content-Length %q, want the GET body's 7", r.header.Get("Content-Length"))
			}
		})
	}
}

// TestToolkitTemplates checks lsgi.template: contextual escaping of hostile
// values, layouts, a missing template, and templates edited while the
// server runs.
func TestToolkitTemplates(t *testing.T) {
	s := startServer(t, "toolkit")
	hostile := `<script>alert('x')</script>"&`

	t.Run("hostile values are escaped for their context", func(t *testing.T) {
		q := url.Values{"name": {hostile}, "item": {"<b>bold</b>", "{{.name}}"}}.Encode()
		r := s.get(t, "/site/hello?"+q)
		r.expectStatus(t, "GET /site/hello", http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		for _, want := range []string{
			`<h1>Hello, &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#34;&amp;!</h1>`, // text
			`href="/search?q=%3cscript%3ealert%28%27x%27%29%3c%2fscript%3e%22%26"`,       // URL
			`title="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#34;&amp;"`,          // attribute
			`var who = "\u003cscript\u003ealert('x')\u003c/script\u003e\"\u0026";`,       // JavaScript
			`<li>&lt;b&gt;bold&lt;/b&gt;</li><li>{{.name}}</li>`,                         // data is never a template
		} {
			if !strings.Contains(r.body, want) {
				t.Errorf("page lacks %s\n%s", want, r.body)
			}
		}
		if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<b>") {
			t.Errorf("hostile markup came through:\n%s", r.body)
		}
	})

	t.Run("layout and page parsed together", func(t *testing.T) {
		s.get(t, "/site/layout").expect(t, "GET /site/layout", http.StatusOK,
			"<html><head><title>T&amp;C</title></head><body><main>child of T&amp;C</main></body></html>\n")
		s.get(t, "/site/exists").expect(t, "GET /site/exists", http.StatusOK, "true false")
	})

	t.Run("missing template: 500, the log names it", func(t *testing.T) {
		r := s.get(t, "/site/missing")
		r.expect(t, "GET /site/missing", http.StatusInternalServerError, "Internal Server Error\n")
		line := s.waitLog(t, regexp.MustCompile(`lsgi\.template: open templates/nope\.html: no such file`))
		if !strings.Contains(line, " path=/site/missing") {
			t.Errorf("log line does not name the request: %s", line)
		}
	})

	t.Run("edited on disk", func(t *testing.T) {
		page := filepath.Join(s.dir, "site", "templates", "page.html")
		original := tkFixture(t, "site/templates/page.html")
		if !strings.Contains(s.get(t, "/site/hello").body, "<p>version 1</p>") {
			t.Fatal("the fixture page does not say version 1")
		}
		steps := []struct {
			name, content string
			check         func(*response) bool
		}{
			{"new content", strings.Replace(original, "version 1", "version 2 for {{.name}}", 1),
				func(r *response) bool {
					return r.status == 200 && strings.Contains(r.body, "<p>version 2 for &lt;i&gt;</p>")
				}},
			{"broken edit: 500 until fixed", "<p>{{if .name}</p>",
				func(r *response) bool { return r.status == 500 }},
			{"fixed", strings.Replace(original, "version 1", "version 3", 1),
				func(r *response) bool { return r.status == 200 && strings.Contains(r.body, "<p>version 3</p>") }},
		}
		for _, st := range steps {
			if err := os.WriteFile(page, []byte(st.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if r, ok := tkPoll(t, s, "/site/hello?name=%3Ci%3E", st.check); !ok {
				t.Fatalf("%s: after %v still %d %q", st.name, tkWait, r.status, r.body)
			}
		}
	})
}

// TestToolkitStatic checks lsgi.middleware.static: headers, ETag and
// If-None-Match, If-Modified-Since, Range, directories, and that no request
// reads outside the static folder, whether through "..", encoded dots,
// hidden files or symbolic links.
func TestToolkitStatic(t *testing.T) {
	s := startServerFiles(t, "toolkit", map[string]string{"site/static/.env": "HIDDEN=secret-dotfile\n"})
	hello := tkFixture(t, "site/static/hello.txt")
	big := tkFixture(t, "site/static/big.txt")

	first := s.get(t, "/site/static/hello.txt")
	first.expect(t, "GET hello.txt", http.StatusOK, hello)
	etag := first.header.Get("ETag")
	lastMod := first.header.Get("Last-Modified")

	t.Run("headers", func(t *testing.T) {
		for name, want := range map[string]string{
			"Content-Type":           "text/plain; charset=utf-8",
			"Content-Length":         strconv.Itoa(len(hello)),
			"Accept-Ranges":          "bytes",
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "public, max-age=60",
		} {
			if got := first.header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		if !regexp.MustCompile(`^"[^"]+"$`).MatchString(etag) {
			t.Errorf("ETag %q is not a strong entity tag", etag)
		}
		if _, err := http.ParseTime(lastMod); err != nil {
			t.Errorf("Last-Modified %q: %v", lastMod, err)
		}
		css := s.get(t, "/site/static/site.css")
		css.expect(t, "GET site.css", http.StatusOK, tkFixture(t, "site/static/site.css"))
		if ct := css.header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
			t.Errorf("site.css: Content-Type %q", ct)
		}
		head := s.request(t, http.MethodHead, "/site/static/hello.txt", nil)
		head.expect(t, "HEAD hello.txt", http.StatusOK, "")
		if head.header.Get("ETag") != etag || head.header.Get("Content-Length") != strconv.Itoa(len(hello)) {
			t.Errorf("HEAD headers %v differ from GET's", head.header)
		}
	})

	t.Run("conditional requests", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			header []string
			status int
		}{
			{"If-None-Match with the ETag", []string{"If-None-Match", etag}, 304},
			{"If-None-Match, weak form", []string{"If-None-Match", "W/" + etag}, 304},
			{"If-None-Match list", []string{"If-None-Match", `"other", ` + etag}, 304},
			{"If-None-Match *", []string{"If-None-Match", "*"}, 304},
			{"If-None-Match, another tag", []string{"If-None-Match", `"other"`}, 200},
			{"If-Modified-Since, same time", []string{"If-Modified-Since", lastMod}, 304},
			{"If-Modified-Since, long ago", []string{"If-Modified-Since", "Mon, 01 Jan 1990 00:00:00 GMT"}, 200},
			{"If-None-Match wins over If-Modified-Since", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}, 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.request(t, http.MethodGet, "/site/static/hello.txt", nil, tc.header...)
				if tc.status == 304 {
					r.expect(t, tc.name, http.StatusNotModified, "")
					if r.header.Get("ETag") != etag {
						t.Errorf("304 ETag %q, want %q", r.header.Get("ETag"), etag)
					}
				} else {
					r.expect(t, tc.name, http.StatusOK, hello)
				}
			})
		}
	})

	t.Run("ranges", func(t *testing.T) {
		bigTag := s.get(t, "/site/static/big.txt").header.Get("ETag")
		n := len(big)
		for _, tc := range []struct {
			name   string
			header []string
			status int
			body   string
			crange string
		}{
			{"a-b", []string{"Range", "bytes=5-9"}, 206, big[5:10], "bytes 5-9/" + strconv.Itoa(n)},
			{"a-", []string{"Range", "bytes=6990-"}, 206, big[6990:], "bytes 6990-6999/" + strconv.Itoa(n)},
			{"-n", []string{"Range", "bytes=-7"}, 206, big[n-7:], "bytes 6993-6999/" + strconv.Itoa(n)},
			{"b past the end", []string{"Range", "bytes=6998-9999"}, 206, big[6998:], "bytes 6998-6999/" + strconv.Itoa(n)},
			{"past the end: 416", []string{"Range", "bytes=9000-"}, 416, "", "bytes */" + strconv.Itoa(n)},
			{"several ranges: whole file", []string{"Range", "bytes=0-1,5-6"}, 200, big, ""},
			{"malformed: whole file", []string{"Range", "bytes=x-y"}, 200, big, ""},
			{"If-Range with the ETag", []string{"Range", "bytes=0-3", "If-Range", bigTag}, 206, big[:4], "bytes 0-3/" + strconv.Itoa(n)},
			{"If-Range with another ETag: whole file", []string{"Range", "bytes=0-3", "If-Range", `"other"`}, 200, big, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.request(t, http.MethodGet, "/site/static/big.txt", nil, tc.header...)
				r.expect(t, tc.name, tc.status, tc.body)
				if got := r.header.Get("Content-Range"); got != tc.crange {
					t.Errorf("Content-Range %q, want %q", got, tc.crange)
				}
				if tc.status == 206 && r.header.Get("Content-Length") != strconv.Itoa(len(tc.body)) {
					t.Errorf("206 Content-Length %q, want %d", r.header.Get("Content-Length"), len(tc.body))
				}
			})
		}
	})

	t.Run("directories", func(t *testing.T) {
		r := s.get(t, "/site/static/docs")
		r.expectStatus(t, "GET docs", http.StatusMovedPermanently)
		if loc := r.header.Get("Location"); loc != "/site/static/docs/" {
			t.Errorf("Location %q, want /site/static/docs/", loc)
		}
		s.get(t, "/site/static/docs/").expect(t, "GET docs/", http.StatusOK, tkFixture(t, "site/static/docs/index.html"))
	})

	t.Run("no way out of the folder", func(t *testing.T) {
		// Links made after the copy: a checkout does not always keep them.
		outside := filepath.Join(filepath.Dir(s.dir), "outside.txt")
		if err := os.WriteFile(outside, []byte("outside secret\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		static := filepath.Join(s.dir, "site", "static")
		for link, target := range map[string]string{
			"escape.txt": "../secret.txt",        // into the plugin folder, out of static/
			"far.txt":    "../../../outside.txt", // out of the plugins folder
			"abs.txt":    outside,                // an absolute target
			"up":         "..",                   // a folder link out
			"inside.txt": "hello.txt",            // stays inside: allowed
			"docslink":   "docs",                 // a folder link that stays inside
		} {
			if err := os.Symlink(target, filepath.Join(static, link)); err != nil {
				t.Skipf("symlinks unavailable: %v", err)
			}
		}
		s.get(t, "/site/static/inside.txt").expect(t, "a link inside", http.StatusOK, hello)
		s.get(t, "/site/static/docslink/index.html").expect(t, "a folder link inside", http.StatusOK,
			tkFixture(t, "site/static/docs/index.html"))

		for _, target := range []string{
			"/site/static/../secret.txt",
			"/site/static/../init.lua",
			"/site/static/docs/../../secret.txt",
			"/site/static/..%2fsecret.txt",
			"/site/static/%2e%2e/secret.txt",
			"/site/static/%2E%2E/init.lua",
			"/site/static/%2e%2e%2fsecret.txt",
			"/site/static/%252e%252e/secret.txt",
			"/site/static/%252e%252e%252fsecret.txt",
			"/site/static/..%5csecret.txt",
			"/site/static/%2e%2e%5csecret.txt",
			"/site/static//etc/passwd",
			"/site/static/%2fetc%2fpasswd",
			"/site/static/hello.txt%00.png",
			"/site/static/.env",
			"/site/static/%2eenv",
			"/site/static/escape.txt",
			"/site/static/far.txt",
			"/site/static/abs.txt",
			"/site/static/up/secret.txt",
			"/site/static/up/init.lua",
			"/site/static/up/static/hello.txt",
		} {
			t.Run(target, func(t *testing.T) {
				c := s.dial(t)
				c.send(rawRequest("GET", target, nil, ""))
				r := c.read("GET")
				if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d (body %q), want 404 or 400", r.StatusCode, r.body)
				}
				for _, leak := range []string{"top secret", "outside secret", "secret-dotfile", "require", "root:"} {
					if strings.Contains(r.body, leak) {
						t.Errorf("body %q leaks %q", r.body, leak)
					}
				}
			})
		}
	})
}

// TestToolkitGzip checks lsgi.middleware.gzip: compression when the client
// accepts it, Vary, small responses, static files with their ETags, and
// ranges left alone.
func TestToolkitGzip(t *testing.T) {
	s := startServer(t, "toolkit")
	plain := s.get(t, "/site/big")
	plain.expectStatus(t, "GET /site/big", http.StatusOK)
	if plain.header.Get("Content-Encoding") != "" || plain.header.Get("Content-Length") != strconv.Itoa(len(plain.body)) {
		t.Fatalf("without Accept-Encoding: Content-Encoding %q, Content-Length %q (body %d bytes)",
			plain.header.Get("Content-Encoding"), plain.header.Get("Content-Length"), len(plain.body))
	}
	if plain.header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("uncompressed response: Vary %q, want Accept-Encoding", plain.header.Get("Vary"))
	}

	t.Run("Accept-Encoding", func(t *testing.T) {
		for _, tc := range []struct {
			accept string
			gzip   bool
		}{
			{"gzip", true},
			{"deflate, gzip;q=0.5, br", true},
			{"*", true},
			{"gzip;q=0", false},
			{"deflate, br", false},
			{"identity", false},
		} {
			t.Run(tc.accept, func(t *testing.T) {
				r := s.request(t, http.MethodGet, "/site/big", nil, "Accept-Encoding", tc.accept)
				r.expectStatus(t, "GET /site/big", http.StatusOK)
				if r.header.Get("Vary") != "Accept-Encoding" {
					t.Errorf("Vary %q, want Accept-Encoding", r.header.Get("Vary"))
				}
				if !tc.gzip {
					if r.header.Get("Content-Encoding") != "" || r.body != plain.body {
						t.Errorf("Content-Encoding %q, body of %d bytes: want the plain response", r.header.Get("Content-Encoding"), len(r.body))
					}
					return
				}
				if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Content-Length") != "" {
					t.Fatalf("Content-Encoding %q, Content-Length %q; want gzip and no length", r.header.Get("Content-Encoding"), r.header.Get("Content-Length"))
				}
				if len(r.body) >= len(plain.body) {
					t.Errorf("compressed body %d bytes, plain %d", len(r.body), len(plain.body))
				}
				if got := tkGunzip(t, "GET /site/big", r.body); got != plain.body {
					t.Errorf("decompressed body differs from the plain one (%d and %d bytes)", len(got), len(plain.body))
				}
			})
		}
	})

	t.Run("small responses stay plain", func(t *testing.T) {
		r := s.request(t, http.MethodGet, "/site/small", nil, "Accept-Encoding", "gzip")
		r.expect(t, "GET /site/small", http.StatusOK, "tiny")
		if r.header.Get("Content-Encoding") != "" || r.header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Content-Encoding %q, Vary %q; want none and Accept-Encoding", r.header.Get("Content-Encoding"), r.header.Get("Vary"))
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		r := s.request(t, http.MethodHead, "/site/big", nil, "Accept-Encoding", "gzip")
		r.expect(t, "HEAD /site/big", http.StatusOK, "")
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("HEAD: Content-Encoding %q, want GET's gzip", r.header.Get("Content-Encoding"))
		}
	})

	t.Run("static file: weak ETag still validates", func(t *testing.T) {
		big := tkFixture(t, "site/static/big.txt")
		r := s.request(t, http.MethodGet, "/site/static/big.txt", nil, "Accept-Encoding", "gzip")
		r.expectStatus(t, "GET big.txt", http.StatusOK)
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", r.header.Get("Content-Encoding"))
		}
		if got := tkGunzip(t, "big.txt", r.body); got != big {
			t.Errorf("decompressed big.txt differs from the file")
		}
		weak := r.header.Get("ETag")
		if !strings.HasPrefix(weak, `W/"`) {
			t.Errorf("ETag %q of a compressed response is not weak", weak)
		}
		s.request(t, http.MethodGet, "/site/static/big.txt", nil, "Accept-Encoding", "gzip", "If-None-Match", weak).
			expect(t, "If-None-Match with the weak ETag", http.StatusNotModified, "")
	})

	t.Run("ranges are not compressed", func(t *testing.T) {
		big := tkFixture(t, "site/static/big.txt")
		r := s.request(t, http.MethodGet, "/site/static/big.txt", nil, "Accept-Encoding", "gzip", "Range", "bytes=0-99")
		r.expect(t, "ranged GET", http.StatusPartialContent, big[:100])
		if r.header.Get("Content-Encoding") != "" {
			t.Errorf("206 with Content-Encoding %q", r.header.Get("Content-Encoding"))
		}
	})
}

// TestToolkitValidator checks that lsgi.validator, which `lsgi serve --dev`
// puts around every app, catches each misuse of the contract, and that the
// log says what was wrong.
func TestToolkitValidator(t *testing.T) {
	s := startServer(t, "toolkit", "--dev")
	s.get(t, "/misuse/ok").expect(t, "a correct app passes", http.StatusOK, "fine")
	for _, tc := range []struct {
		path    string
		aborted bool   // the headers went out before the misuse
		line    bool   // the message points at the app's line
		log     string // the message after "lsgi.validator: "
	}{
		{"string", false, false, `the app returned a string; a body is an iterator of strings: return {s} instead`},
		{"no-start-response", false, false, `the body has a non-empty chunk but start_response was not called`},
		{"no-start-response-empty", false, false, `the app returned its body without calling start_response`},
		{"bad-header", false, true, `headers\[2\]: bad header name \\"X-Bad Name\\"`},
		{"bad-header-value", false, true, `headers\[2\] \(X-Split\): the value contains control characters`},
		{"chunk", true, false, `chunk 2 of the body is a number, not a string`},
		{"twice", false, true, `start_response called a second time without exc_info`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			path := "/misuse/" + tc.path
			r := s.get(t, path)
			if tc.aborted {
				if r.status != http.StatusOK || r.body != "first " || r.bodyErr == nil {
					t.Errorf("got %d %q (body error %v), want the 200 already sent and an aborted body", r.status, r.body, r.bodyErr)
				}
			} else {
				// This client is on the server's machine: under --dev it
				// gets the development page, and none of the app's
				// headers.
				r.expectStatus(t, "GET "+path, http.StatusInternalServerError)
				if !strings.Contains(r.body, "broke the LSGI contract") || r.header.Get("X-Split") != "" || r.header.Get("Injected") != "" {
					t.Errorf("500 is not the development page of a contract error, or shows the app's headers: %v %q", r.header, r.body)
				}
			}
			where := ``
			if tc.line {
				where = `[^"]*/misuse\.lua:\d+: `
			}
			s.waitLog(t, regexp.MustCompile(`path=`+regexp.QuoteMeta(path)+` err="`+where+`lsgi\.validator: `+tc.log))
		})
	}
	// The server goes on serving.
	s.get(t, "/misuse/ok").expect(t, "after the misuses", http.StatusOK, "fine")
}

// TestToolkitErrors checks lsgi.middleware.errors with its default options:
// a traceback page for loopback clients under --dev only, a plain 500
// otherwise, and HTTP errors from Response.abort for everyone.
func TestToolkitErrors(t *testing.T) {
	for _, mode := range []struct {
		name  string
		flags []string
	}{
		{"default", nil},
		{"dev", []string{"--dev"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			s := startServer(t, "toolkit", mode.flags...)
			s.get(t, "/boom/abort").expect(t, "abort", http.StatusConflict, "already taken\n")

			id := newID()
			r := s.get(t, "/boom/x?"+id)
			if mode.name == "dev" {
				r.expectStatus(t, "dev page", http.StatusInternalServerError)
				if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q, want an HTML page", ct)
				}
				for _, want := range []string{"kaboom &lt;script&gt;alert(1)&lt;/script&gt; " + id, "Show all frames", "boom.lua:"} {
					if !strings.Contains(r.body, want) {
						t.Errorf("dev page lacks %q:\n%s", want, r.body)
					}
				}
				if strings.Contains(r.body, "<script>") {
					t.Errorf("dev page holds unescaped markup:\n%s", r.body)
				}
			} else {
				r.expect(t, "plain 500", http.StatusInternalServerError, "Internal Server Error\n")
			}
			s.waitLog(t, regexp.MustCompile(`kaboom .*`+id))

			// A client that is not on this machine (as the trusted proxy
			// on 127.0.0.1 says) never sees the page.
			s.request(t, http.MethodGet, "/boom/x?"+newID(), nil, "X-Forwarded-For", "203.0.113.7").
				expect(t, "remote client", http.StatusInternalServerError, "Internal Server Error\n")
		})
	}
}
