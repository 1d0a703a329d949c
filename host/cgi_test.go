package host

import (
	"io"
	"log/slog"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The CGI tests run this test binary as the CGI program, as
// net/http/cgi's own tests do: with LSGI_TEST_CGI_APP set, TestMain serves
// one CGI request with that app and exits.
func TestMain(m *testing.M) {
	if app := os.Getenv("LSGI_TEST_CGI_APP"); app != "" {
		os.Exit(cgiChild(app))
	}
	os.Exit(m.Run())
}

func cgiChild(app string) int {
	h, err := New(Config{NoPlugins: true, Root: CGIRoot(), States: 1,
		Apps:   []App{{Mount: "/", File: app}},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return 1
	}
	defer h.Close()
	if err := ServeCGI(h, os.Stdout); err != nil {
		return 1
	}
	return 0
}

func TestCGI(t *testing.T) {
	const app = `return function(e, sr)
		sr("299 Custom Reason", {{"Content-Type", "text/plain"}, {"X-Run-Once", tostring(e["lsgi.run_once"])}})
		return {e.SCRIPT_NAME .. "|" .. e.PATH_INFO .. "|" .. e.QUERY_STRING .. "|" .. tostring(e.CONTENT_LENGTH) .. "|" .. e["lsgi.input"]:read()}
	end`
	file := t.TempDir() + "/app.lua"
	if err := os.WriteFile(file, []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	handler := &cgi.Handler{Path: exe, Root: "/cgi-bin/app", Env: []string{"LSGI_TEST_CGI_APP=" + file}, Stderr: io.Discard}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	resp, err := srv.Client().Post(srv.URL+"/cgi-bin/app/x/y?q=1", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 299 || resp.Header.Get("X-Run-Once") != "true" {
		t.Errorf("status %d, X-Run-Once %q; want 299 and true", resp.StatusCode, resp.Header.Get("X-Run-Once"))
	}
	if got, want := string(body), "/cgi-bin/app|/x/y|q=1|4|body"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}
