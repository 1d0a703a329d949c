package devmode

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// validatorTrace is what gopher-lua writes for a contract error that
// lsgi.validator raised from an app's start_response call.
const validatorTrace = "stack traceback:\n\t[G]: in function 'error'\n\tlsgi/validator.lua:44: in function 'fail'\n" +
	"\tlsgi/validator.lua:260: in function 'start_response'\n\tplugins/bad.lua:2: in function 'app'\n" +
	"\tlsgi/validator.lua:271: in main chunk\n\t(tailcall): ?\n\t[G]: ?"

func TestParseTraceback(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want []Frame
	}{
		{"empty", "", nil},
		{"validator", validatorTrace, []Frame{
			{File: "[G]", Where: "in function 'error'"},
			{File: "lsgi/validator.lua", Line: 44, Where: "in function 'fail'"},
			{File: "lsgi/validator.lua", Line: 260, Where: "in function 'start_response'"},
			{File: "plugins/bad.lua", Line: 2, Where: "in function 'app'", App: true},
			{File: "lsgi/validator.lua", Line: 271, Where: "in main chunk"},
			{File: "(tailcall)"},
			{File: "[G]"},
		}},
		{"anonymous function and a cut", "stack traceback:\n\tp/a/init.lua:4: in function <p/a/init.lua:4>\n\t...\n\tshims/coxpcall.lua:9: in function 'pcall'", []Frame{
			{File: "p/a/init.lua", Line: 4, Where: "in function <p/a/init.lua:4>", App: true},
			{Where: "..."},
			{File: "shims/coxpcall.lua", Line: 9, Where: "in function 'pcall'"},
		}},
		{"a path with a colon", "stack traceback:\n\tC:/x/app.lua:3: in main chunk", []Frame{
			{File: "C:/x/app.lua", Line: 3, Where: "in main chunk", App: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got := ParseTraceback(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseTraceback:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		desc, accept string
		want         bool
	}{
		{"no header", "", false},
		{"anything", "*/*", false},
		{"a browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"JSON only", "application/json", true},
		{"JSON first", "application/json, text/html;q=0.5", true},
		{"HTML preferred", "application/json;q=0.5, text/html", false},
		{"equal", "application/json, text/html", false},
		{"JSON and anything", "application/json, */*;q=0.1", true},
		{"problem+json", "application/problem+json", true},
		{"JSON refused", "application/json;q=0", false},
		{"application/*", "application/*", true},
		{"case", "Application/JSON", true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := WantsJSON(tc.accept); got != tc.want {
				t.Errorf("WantsJSON(%q) = %v, want %v", tc.accept, got, tc.want)
			}
		})
	}
}

func TestAsksForHTML(t *testing.T) {
	tests := []struct {
		desc, accept string
		want         bool
	}{
		{"a browser's page load", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"curl", "*/*", false},
		{"no header", "", false},
		{"JSON", "application/json", false},
		{"HTML refused", "text/html;q=0, */*", false},
		{"HTML last", "application/json, TEXT/HTML;q=0.1", true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := AsksForHTML(tc.accept); got != tc.want {
				t.Errorf("AsksForHTML(%q) = %v, want %v", tc.accept, got, tc.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	src := []byte("one\ntwo\r\nthree\nfour\nfive\n")
	tests := []struct {
		desc    string
		line    int
		context int
		want    []SourceLine
	}{
		{"middle", 3, 1, []SourceLine{{2, "two", false}, {3, "three", true}, {4, "four", false}}},
		{"first line", 1, 1, []SourceLine{{1, "one", true}, {2, "two", false}}},
		{"last line", 5, 1, []SourceLine{{4, "four", false}, {5, "five", true}}},
		{"past the end", 6, 1, nil},
		{"no line", 0, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := Excerpt(src, tc.line, tc.context); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Excerpt(%d) = %+v, want %+v", tc.line, got, tc.want)
			}
		})
	}
}

func TestErrorPage(t *testing.T) {
	src := "return function(environ, start_response)\n  start_response(\"200 OK\", {{\"Connection\", \"<close>\"}})\n  return {\"hi\"}\nend\n"
	e := &Error{
		Kind: ContractError, App: "bad", Method: "GET", Path: "/bad",
		Message: "plugins/bad.lua:2: lsgi.validator: headers[1]: Connection is a hop-by-hop header",
		File:    "plugins/bad.lua", Line: 2, Frames: ParseTraceback(validatorTrace),
		Source: func(file string) []byte {
			if file == "plugins/bad.lua" {
				return []byte(src)
			}
			return nil
		},
		Reload: Reload{URL: "/.lsgi/events?app=bad", Gen: "x-1"},
	}
	page := e.HTML()
	for _, want := range []string{
		"broke the LSGI contract",
		"500 Internal Server Error · contract error",
		"GET /bad",
		`<span class="hot"><span class="n">2</span>  start_response(&#34;200 OK&#34;, {{&#34;Connection&#34;, &#34;&lt;close&gt;&#34;}})</span>`,
		"<code>plugins/bad.lua:2</code><span>in function &#39;app&#39;</span>",
		"Show all frames (7, 6 of them in the toolkit or Go)",
		`<li class="tk">lsgi/validator.lua:44: in function &#39;fail&#39;</li>`,
		`new EventSource("/.lsgi/events?app=bad")`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if n := strings.Count(page, `class="site"`); n != 1 {
		t.Errorf("%d excerpts, want 1 (the error's line and the app frame are one place)", n)
	}

	var got struct {
		Error     string
		Kind      string
		File      string
		Line      int
		Traceback []Frame
	}
	if err := json.Unmarshal([]byte(e.JSON()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Error != e.Message || got.Kind != "contract" || got.File != "plugins/bad.lua" || got.Line != 2 || len(got.Traceback) != 7 || !got.Traceback[3].App {
		t.Errorf("JSON = %+v", got)
	}
	if body, ctype := e.Render("application/json"); ctype != "application/json; charset=utf-8" || !strings.HasPrefix(body, `{"error":`) {
		t.Errorf("Render(JSON) = %q, %q", ctype, body)
	}
}

func TestReloadScriptEscapes(t *testing.T) {
	s := Reload{URL: "/x</script><b>?app=a&b", Gen: "1"}.Script()
	if strings.Contains(s, "</script><b>") || strings.Count(s, "</script>") != 1 {
		t.Errorf("the URL broke out of the script: %s", s)
	}
	if (Reload{}).Script() != "" {
		t.Error("a Reload without URL gives a script")
	}
}

func TestLogHandler(t *testing.T) {
	var out bytes.Buffer
	next := slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	log := slog.New(NewLogHandler(next, &out)).With("app", "bad")
	log.Error("app error", "err", "boom", TracebackKey, validatorTrace, "path", "/bad")
	log.Info("plain", "n", 1)
	want := `level=ERROR msg="app error" app=bad err=boom path=/bad
    at plugins/bad.lua:2: in function 'app'
    (6 frames of the toolkit and Go not shown)
level=INFO msg=plain app=bad n=1
`
	if out.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", out.String(), want)
	}
}
