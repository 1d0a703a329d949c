package host

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// slowMain is a plugin whose main chunk takes a while: the first load
// waits for it.
const slowMain = `local t = os.clock() while os.clock() - t < 0.3 do end
return function(e, sr) sr("200 OK", {}) return {"slow"} end`

func TestStartupLog(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = 50 * time.Millisecond
	logs := &syncBuffer{}
	h, err := New(Config{Logger: slog.New(slog.NewTextHandler(logs, nil)), Plugins: []PluginSource{
		App{Mount: "/slow", Name: "slow", Source: slowMain},
		App{Mount: "/ok", Name: "ok", Source: `return function(e, sr) sr("200 OK", {}) return {} end`},
		App{Mount: "/bad", Name: "bad", Source: `return function(`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	out := logs.String()
	if !regexp.MustCompile(`msg="loading apps" done=\d of=3 failed=\d elapsed=`).MatchString(out) {
		t.Errorf("no progress line while the slow plugin loaded:\n%s", out)
	}
	summary := regexp.MustCompile(`msg="apps loaded" loaded=2 failed=1 took=\S+`).FindStringIndex(out)
	if summary == nil {
		t.Fatalf("no summary line:\n%s", out)
	}
	if strings.Count(out, `msg="apps loaded"`) != 1 || strings.Contains(out[summary[1]:], "loading apps") {
		t.Errorf("want one summary line, after every progress line:\n%s", out)
	}
}

func TestAdminHandler(t *testing.T) {
	var during map[string]*httptest.ResponseRecorder
	call := func(h http.Handler, target, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", target, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	h, _ := newTestHandler(t, Config{Metrics: true, BeforeLoad: func(h *Handler) {
		admin := h.AdminHandler(AdminOptions{})
		during = map[string]*httptest.ResponseRecorder{"/healthz": call(admin, "/healthz", ""), "/readyz": call(admin, "/readyz", "")}
	}})
	if during == nil {
		t.Fatal("BeforeLoad was not called")
	}
	if during["/healthz"].Code != 200 || during["/readyz"].Code != 503 || !strings.Contains(during["/readyz"].Body.String(), "loading apps") {
		t.Errorf("before the load: healthz %d, readyz %d %q; want 200 and 503 loading", during["/healthz"].Code, during["/readyz"].Code, during["/readyz"].Body)
	}
	get(h, "GET", "/echo/x")

	admin := h.AdminHandler(AdminOptions{Engine: "test-engine"})
	if rec := call(admin, "/readyz", ""); rec.Code != 200 {
		t.Errorf("readyz after the load = %d %q, want 200", rec.Code, rec.Body)
	}
	if rec := call(admin, "/metrics", ""); rec.Code != 404 {
		t.Errorf("/metrics without a Metrics handler = %d, want 404", rec.Code)
	}
	if rec := call(admin, "/nothing", ""); rec.Code != 404 {
		t.Errorf("/nothing = %d, want 404", rec.Code)
	}

	page := call(admin, "/", "text/html")
	body := page.Body.String()
	if page.Code != 200 || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status page = %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	for _, want := range []string{"<b>echo</b>", "<code>/echo</code>", "<b>broken</b>", "broken.lua:3", "test-engine", "ready", Version} {
		if !strings.Contains(body, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<script") {
		t.Error("the status page loads something: it must stand alone")
	}

	for _, rec := range []*httptest.ResponseRecorder{call(admin, "/?format=json", ""), call(admin, "/", "application/json")} {
		var st struct {
			Engine string `json:"engine"`
			Ready  bool   `json:"ready"`
			Apps   []struct {
				Name     string `json:"name"`
				Serving  bool   `json:"serving"`
				Requests struct {
					Total uint64 `json:"total"`
				} `json:"requests"`
				Error *struct {
					Line int `json:"line"`
				} `json:"error"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatalf("JSON status: %v\n%s", err, rec.Body)
		}
		apps := map[string]int{}
		for i, a := range st.Apps {
			apps[a.Name] = i
		}
		echo, broken := st.Apps[apps["echo"]], st.Apps[apps["broken"]]
		if st.Engine != "test-engine" || !st.Ready || len(st.Apps) != 7 || echo.Requests.Total != 1 || !echo.Serving ||
			broken.Serving || broken.Error == nil || broken.Error.Line != 3 {
			t.Errorf("JSON status = %+v", st)
		}
	}

	h.Close()
	if rec := call(admin, "/readyz", ""); rec.Code != 503 || !strings.Contains(rec.Body.String(), "shutting down") {
		t.Errorf("readyz after Close = %d %q, want 503 shutting down", rec.Code, rec.Body)
	}
	if rec := call(admin, "/healthz", ""); rec.Code != 200 {
		t.Errorf("healthz after Close = %d, want 200 while the process serves", rec.Code)
	}
}
