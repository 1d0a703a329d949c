package transport_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// The CGI tests run this test binary as the CGI program, as net/http/cgi's
// own tests do: with LSGI_TEST_CGI_APP set, TestMain serves one CGI request
// and exits.
func TestMain(m *testing.M) {
	if app := os.Getenv("LSGI_TEST_CGI_APP"); app != "" {
		os.Exit(cgiChild(app))
	}
	os.Exit(m.Run())
}

// cgiChild serves one CGI request with a plain ServeMux that holds a Go
// handler at /cgi-bin/app/go and the LSGI app everywhere else.
func cgiChild(app string) int {
	h, err := host.NewApp(host.App{File: app}, host.Config{
		Root:   transport.CGIRoot(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return 1
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/app/go", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "go")
		io.WriteString(w, "go handler at "+r.URL.Path)
	})
	mux.Handle("/", h)
	if err := transport.ServeCGI(os.Stdout, mux); err != nil {
		return 1
	}
	return 0
}

func TestCGIMux(t *testing.T) {
	const app = `return function(e, sr)
		sr("299 Custom Reason", {{"Content-Type", "text/plain"}, {"X-Run-Once", tostring(e["lsgi.run_once"])}})
		return {e.SCRIPT_NAME .. "|" .. e.PATH_INFO .. "|" .. e.QUERY_STRING .. "|" .. tostring(e.CONTENT_LENGTH) .. "|" .. e["lsgi.input"]:read()}
	end`
	file := filepath.Join(t.TempDir(), "app.lua")
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

	tests := []struct {
		desc, path, body string
		wantStatus       int
		wantHeader       [2]string
		wantBody         string
	}{
		{"the LSGI app", "/cgi-bin/app/x/y?q=1", "body", 299, [2]string{"X-Run-Once", "true"}, "/cgi-bin/app|/x/y|q=1|4|body"},
		{"the Go handler beside it", "/cgi-bin/app/go", "", 200, [2]string{"X-Handler", "go"}, "go handler at /cgi-bin/app/go"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			resp, err := srv.Client().Post(srv.URL+tt.path, "text/plain", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get(tt.wantHeader[0]) != tt.wantHeader[1] {
				t.Errorf("status %d, %s %q; want %d and %q", resp.StatusCode, tt.wantHeader[0], resp.Header.Get(tt.wantHeader[0]), tt.wantStatus, tt.wantHeader[1])
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
}
