package tests

import (
	"net/http"
	"strings"
	"testing"
)

// TestAppForms serves the three app forms (function, instance, class) and
// the two ways a plugin hands over its app (return value, global
// `application`), plus a folder plugin that requires its own module.
func TestAppForms(t *testing.T) {
	s := startServer(t, "apps")
	for _, tc := range []struct {
		name, path, body string
	}{
		{"function", "/fn", "hello from a function"},
		{"instance with __call", "/instance", "hello from an instance"},
		{"class whose __call builds the response", "/class", "hello from a class"},
		{"global application", "/global", "hello from a global"},
		{"folder plugin with a module", "/pkg", "hello from a module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 3; i++ { // an app is called once per request
				s.get(t, tc.path).expect(t, "GET "+tc.path, http.StatusOK, tc.body)
			}
		})
	}
}

// TestResultForms checks the four result forms, a lazy start_response and
// empty chunks.
func TestResultForms(t *testing.T) {
	s := startServer(t, "apps")
	for _, tc := range []struct {
		name, path, body string
	}{
		{"array table", "/array", "x1 x2 x3"},
		{"iterator function called with no arguments", "/iterfunc", "x1 x2 x3"},
		{"coroutine.wrap generator", "/wrap", "x1 x2 x3"},
		{"iterator object with __call", "/callable", "x1 x2 x3"},
		{"coroutine thread, return value ignored", "/thread", "x1 x2 x3"},
		{"start_response called lazily after an empty chunk", "/lazy", "x1 x2 x3"},
		{"class instance as iterator", "/class", "hello from a class"},
		{"array with a hole ends at the hole, __len ignored", "/hole", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, tc.path)
			r.expect(t, "GET "+tc.path, http.StatusOK, tc.body)
			if ct := r.header.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("Content-Type = %q, want the app's %q", ct, "text/plain")
			}
		})
	}
}

// TestBadResults checks that results which are not bodies, and chunks which
// are not strings, give a 500 without the server losing its footing.
func TestBadResults(t *testing.T) {
	s := startServer(t, "apps")
	for _, tc := range []struct {
		name, path string
	}{
		{"plain string", "/bad/string"},
		{"nil", "/bad/nil"},
		{"number", "/bad/number"},
		{"false", "/bad/boolean"},
		{"table chunk", "/bad/table-chunk"},
		{"number chunk", "/bad/number-chunk"},
		{"boolean chunk from a generator", "/bad/boolean-chunk"},
		{"WSAPI-style triple", "/bad/wsapi-triple"},
		{"body without start_response", "/bad/no-start-response"},
		{"empty body without start_response", "/bad/no-start-response-empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, tc.path)
			r.expectStatus(t, "GET "+tc.path, http.StatusInternalServerError)
			for _, leak := range []string{"a plain string", "nested", "wsapi style", "body without"} {
				if strings.Contains(r.body, leak) {
					t.Errorf("500 body %q holds app output %q", r.body, leak)
				}
			}
			// The server keeps serving: the same plugin, and another one.
			s.get(t, tc.path).expectStatus(t, "GET "+tc.path+" again", http.StatusInternalServerError)
			s.get(t, "/fn").expect(t, "GET /fn after the error", http.StatusOK, "hello from a function")
		})
	}
}

// TestSandbox checks which parts of the Lua standard library an app
// reaches without --trust: no io, no debug, only the harmless part of os,
// and no dofile or loadfile outside the plugin's folder.
func TestSandbox(t *testing.T) {
	s := startServer(t, "apps")
	want := "io.open=nil;io.popen=nil;io.lines=false;debug.sethook=nil;debug.getinfo=function;" +
		"os.execute=nil;os.getenv HOME=nil;os.remove=nil;os.exit=false;_printregs=nil;" +
		"os.time=function;os.clock=function;os.date=function;os.difftime=function;" +
		"string=table;table=table;math=table;coroutine=table;require=function;" +
		"dofile /etc/hostname=false;loadfile /etc/hostname=false;require io=true;require os.execute=false;"
	r := s.get(t, "/sandbox")
	r.expectStatus(t, "GET /sandbox", http.StatusOK)
	got := strings.Split(r.body, ";")
	for i, w := range strings.Split(want, ";") {
		if i >= len(got) || got[i] != w {
			g := "missing"
			if i < len(got) {
				g = got[i]
			}
			t.Errorf("probe %d: got %q, want %q", i, g, w)
		}
	}
}
