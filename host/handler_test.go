package host

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestHandler(t *testing.T, cfg Config) (*Handler, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Plugins == nil {
		cfg.Plugins = []PluginSource{Folder{Path: "testdata/plugins"}}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, logs
}

func get(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestRouting(t *testing.T) {
	h, _ := newTestHandler(t, Config{})
	tests := []struct {
		desc, target string
		wantStatus   int
		wantBody     string
	}{
		{"mount root without slash", "/echo", 200, "/echo|"},
		{"mount root with slash", "/echo/", 200, "/echo|/"},
		{"deeper path", "/echo/x/y", 200, "/echo|/x/y"},
		{"percent-decoded path info", "/echo/a%20b+c/%C3%A9", 200, "/echo|/a b+c/\xc3\xa9"},
		{"encoded slash does not match the mount", "/echo%2Fx", 200, "index||/echo/x"},
		{"segment boundary", "/echoes", 200, "index||/echoes"},
		{"index at the root", "/", 200, "index||/"},
		{"folder plugin with a module", "/blog/first", 200, "post/first"},
		{"hidden file not mounted", "/.hidden", 200, "index||/.hidden"},
		{"broken plugin answers 500", "/broken", 500, "failed to load"},
		{"plugin without an app answers 500", "/noapp", 500, "failed to load"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := get(h, "GET", tt.target)
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.target, rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestMounts(t *testing.T) {
	h, logs := newTestHandler(t, Config{})
	mounts := h.Mounts()
	for _, m := range []string{"/", "/echo", "/blog", "/broken", "/noapp", "/slow", "/loop"} {
		if _, ok := mounts[m]; !ok {
			t.Errorf("mount %s missing from %v", m, mounts)
		}
	}
	if len(mounts) != 7 {
		t.Errorf("mounts = %v, want exactly 7 (hidden files, backups, 4913 and bad names skipped)", mounts)
	}
	if mounts["/broken"] == nil || !strings.Contains(mounts["/broken"].Error(), "broken.lua:3:") {
		t.Errorf("broken plugin error = %v, want file and line", mounts["/broken"])
	}
	if !strings.Contains(logs.String(), "broken.lua:3:") {
		t.Errorf("the log does not name the broken file and line:\n%s", logs)
	}
}

func TestNoMount(t *testing.T) {
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}}})
	if rec := get(h, "GET", "/missing"); rec.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", rec.Code)
	}
}

func TestBusyAnswers503(t *testing.T) {
	// One state, a 300ms app and a 20ms queue: of two concurrent requests
	// exactly one runs and the other is refused.
	h, _ := newTestHandler(t, Config{States: 1, QueueTimeout: 20 * time.Millisecond})
	results := make(chan *httptest.ResponseRecorder, 2)
	for i := 0; i < 2; i++ {
		go func() { results <- get(h, "GET", "/slow") }()
	}
	codes := map[int]int{}
	for i := 0; i < 2; i++ {
		rec := <-results
		codes[rec.Code]++
		if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	if codes[200] != 1 || codes[http.StatusServiceUnavailable] != 1 {
		t.Errorf("statuses = %v, want one 200 and one 503", codes)
	}
}

func TestTimeoutAnswers504(t *testing.T) {
	h, _ := newTestHandler(t, Config{Timeout: 100 * time.Millisecond, States: 1})
	if rec := get(h, "GET", "/loop"); rec.Code != http.StatusGatewayTimeout {
		t.Errorf("status = %d, want 504", rec.Code)
	}
	if rec := get(h, "GET", "/echo"); rec.Code != 200 {
		t.Errorf("after a timeout: status = %d, want 200", rec.Code)
	}
}

func TestFraming(t *testing.T) {
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}}})
	rec := get(h, "HEAD", "/hello")
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "13" {
		t.Errorf("HEAD = %d, %d body bytes, CL %q; want 200, none, 13", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	rec = get(h, "GET", "/stream")
	if rec.Header().Get("Content-Length") != "" || !rec.Flushed || rec.Body.Len() != 10000 {
		t.Errorf("stream: CL %q, flushed %v, %d bytes", rec.Header().Get("Content-Length"), rec.Flushed, rec.Body.Len())
	}
}

func TestAccessLog(t *testing.T) {
	var out syncBuffer
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: "../tests/load/plugins"}}, AccessLog: &out})
	get(h, "GET", "/hello?x=\"1\"")
	h.Close()
	line := out.String()
	for _, want := range []string{`"GET /hello?x=\x221\x22 HTTP/1.1" 200 13 `, "192.0.2.1 - - ["} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %q lacks %q", line, want)
		}
	}
}
