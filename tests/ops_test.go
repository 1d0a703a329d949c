package tests

// Operations end to end: the admin listener (/metrics, /healthz, /readyz,
// the status page), log and access log formats, request ids, lsgi.log,
// the start-up summary and a busy port.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// opsApps are the plugins of the operations tests.
var opsApps = map[string]string{
	"hello.lua": `return function(e, sr)
  sr("200 OK", {{"Content-Type", "text/plain"}})
  return {"Hello, world!"}
end`,
	"boom.lua": `return function(e, sr) error("boom") end`,
	"id.lua": `return function(e, sr)
  sr("200 OK", {{"Content-Type", "text/plain"}})
  return {e["lsgi.request_id"]}
end`,
	"logs.lua": `local log = require "lsgi.log"
return function(e, sr)
  log.info("order placed", {order = 42, user = "ann", paid = true})
  sr("200 OK", {{"Content-Type", "text/plain"}})
  return {"logged"}
end`,
	"broken.lua": "return function(e, sr)\n  sr(\"200 OK\", {})\n  return {\"x\"\nend\n",
}

// adminRE finds the admin listener's address in the log.
var adminRE = regexp.MustCompile(`Admin listening at: http://(127\.0\.0\.1:\d+)`)

// adminBase waits for the admin listener's line and returns its URL.
func (s *server) adminBase(t *testing.T) string {
	t.Helper()
	line := s.waitLog(t, adminRE)
	return "http://" + adminRE.FindStringSubmatch(line)[1]
}

// httpGet fetches url with a short timeout.
func httpGet(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp, string(body)
}

// TestMetricsScrape sends known traffic and reads it back from /metrics
// with the Prometheus text parser.
func TestMetricsScrape(t *testing.T) {
	s := startServerFiles(t, "", opsApps, "--admin-bind", "127.0.0.1:0")
	admin := s.adminBase(t)
	for range 4 {
		s.get(t, "/hello").expect(t, "hello", 200, "Hello, world!")
	}
	s.get(t, "/boom").expectStatus(t, "boom", 500)
	s.get(t, "/broken").expectStatus(t, "broken", 500)
	for range 2 {
		s.get(t, "/nowhere").expectStatus(t, "no mount", 404)
	}
	resp, body := httpGet(t, admin+"/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		for _, m := range fams[name].GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue(), true
				case m.Gauge != nil:
					return m.Gauge.GetValue(), true
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount()), true
				}
			}
		}
		return 0, false
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"lsgi_requests_total", map[string]string{"app": "hello", "code": "200"}, 4},
		{"lsgi_requests_total", map[string]string{"app": "boom", "code": "500"}, 1},
		{"lsgi_requests_total", map[string]string{"app": "broken", "code": "500"}, 1},
		{"lsgi_request_duration_seconds", map[string]string{"app": "hello"}, 4},
		{"lsgi_app_errors_total", map[string]string{"app": "boom"}, 1},
		{"lsgi_app_errors_total", map[string]string{"app": "hello"}, 0},
		{"lsgi_requests_in_flight", map[string]string{"app": "hello"}, 0},
		{"lsgi_queue_rejections_total", map[string]string{"app": "hello"}, 0},
		{"lsgi_unmatched_requests_total", nil, 2},
		{"lsgi_app_up", map[string]string{"app": "broken"}, 0},
		{"lsgi_app_load_failed", map[string]string{"app": "broken"}, 1},
		{"lsgi_app_up", map[string]string{"app": "hello"}, 1},
		{"lsgi_plugins_mounted", nil, 5},
		{"lsgi_ready", nil, 1},
		{"lsgi_build_info", map[string]string{"version": "0.1.0"}, 1},
	}
	for _, tt := range tests {
		got, ok := value(tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if states, _ := value("lsgi_lua_states", nil); states < 4 {
		t.Errorf("lsgi_lua_states = %v, want at least one per loaded app", states)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("the Go runtime's metrics are missing")
	}
	if _, ok := fams["process_cpu_seconds_total"]; !ok {
		t.Error("the process metrics are missing")
	}
	// Not on the apps' listener.
	s.get(t, "/metrics").expectStatus(t, "/metrics on the apps' port", 404)
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// TestReadyz starts a server whose one plugin has a slow main chunk: the
// admin listener answers /healthz and /readyz 503 while it loads, then 200.
func TestReadyz(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	slow := `local t = os.clock() while os.clock() - t < 1.5 do end
return function(e, sr) sr("200 OK", {}) return {"slow"} end`
	if err := os.WriteFile(filepath.Join(dir, "slow.lua"), []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "lsgi serve", filepath.Dir(dir), nil, binPath,
		append(append([]string{"serve", "--bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0"}, engineFlags()...), dir)...)
	admin := "http://" + c.waitLine(t, adminRE)[1]
	resp, body := httpGet(t, admin+"/readyz")
	if resp.StatusCode != 503 || !strings.Contains(body, "loading apps") {
		t.Errorf("/readyz while loading = %d %q, want 503 loading apps", resp.StatusCode, body)
	}
	if resp, _ := httpGet(t, admin+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz while loading = %d, want 200", resp.StatusCode)
	}
	c.waitLine(t, listeningRE)
	if resp, body := httpGet(t, admin+"/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz once loaded = %d %q, want 200", resp.StatusCode, body)
	}
}

// TestStatusPageJSON checks the status page's JSON twin over HTTP.
func TestStatusPageJSON(t *testing.T) {
	s := startServerFiles(t, "", opsApps, "--admin-bind", "127.0.0.1:0")
	admin := s.adminBase(t)
	s.get(t, "/hello")
	for _, url := range []string{admin + "/?format=json", admin + "/"} {
		resp, body := httpGet(t, url, "Accept", "application/json")
		var st struct {
			Version string `json:"version"`
			Engine  string `json:"engine"`
			Uptime  string `json:"uptime"`
			Apps    []struct {
				Name, Mount, File string
				Version           int
				Error             *struct {
					Message, File string
					Line          int
				}
				Requests *struct{ Total int }
			}
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s = %d, %v\n%s", url, resp.StatusCode, err, body)
		}
		byName := map[string]int{}
		for i, a := range st.Apps {
			byName[a.Name] = i
		}
		hello, broken := st.Apps[byName["hello"]], st.Apps[byName["broken"]]
		if st.Version != "0.1.0" || st.Engine != engineName() || st.Uptime == "" || len(st.Apps) != 5 ||
			hello.Mount != "/hello" || hello.Version != 1 || hello.Requests == nil || hello.Requests.Total != 1 ||
			broken.Error == nil || !strings.HasSuffix(broken.Error.File, "broken.lua") || broken.Error.Line == 0 {
			t.Errorf("status = %s", body)
		}
	}
	resp, body := httpGet(t, admin+"/")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<b>hello</b>") {
		t.Errorf("the HTML status page = %s\n%s", resp.Header.Get("Content-Type"), body)
	}
}

// TestJSONLogs runs a server with --log-format json: every line it writes
// (the access log aside) is a JSON object.
func TestJSONLogs(t *testing.T) {
	accessLog := filepath.Join(t.TempDir(), "access.log")
	s := startServerFiles(t, "", opsApps, "--log-format", "json", "--access-log", accessLog)
	s.get(t, "/logs").expect(t, "logs", 200, "logged")
	s.get(t, "/boom").expectStatus(t, "boom", 500)
	line := s.waitLog(t, regexp.MustCompile(`"msg":"order placed"`))
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("lsgi.log record is not JSON: %v\n%s", err, line)
	}
	fields, _ := rec["fields"].(map[string]any)
	if rec["app"] != "logs" || rec["level"] != "INFO" || rec["request_id"] == nil ||
		fields["order"] != 42.0 || fields["user"] != "ann" || fields["paid"] != true {
		t.Errorf("lsgi.log record = %s", line)
	}
	s.waitLog(t, regexp.MustCompile(`"msg":"app error"`))
	lines, _ := s.log.snapshot()
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("a log line is not JSON: %q", l)
		}
	}
}

// TestAccessLogFormatFlag sets a gunicorn format and reads the line.
func TestAccessLogFormatFlag(t *testing.T) {
	s := startServerFiles(t, "", opsApps, "--access-log-format", `%(h)s "%(r)s" %(s)s %(b)s "%(a)s" %({x-request-id}o)s %(D)s`)
	s.request(t, "GET", "/hello?x=1", nil, "User-Agent", "ops-test/1", "X-Request-Id", "acc-1")
	s.waitLog(t, regexp.MustCompile(`^127\.0\.0\.1 "GET /hello\?x=1 HTTP/1\.1" 200 13 "ops-test/1" acc-1 \d+$`))
	s.get(t, "/nowhere")
	s.waitLog(t, regexp.MustCompile(`^127\.0\.0\.1 "GET /nowhere HTTP/1\.1" 404 14 "Go-http-client/1\.1" \S+-\w+ \d+$`))
}

// TestAccessLogFormatPresets checks the common and combined presets and a
// bad format, which stops the server before it starts.
func TestAccessLogFormatPresets(t *testing.T) {
	s := startServerFiles(t, "", opsApps, "--access-log-format", "combined")
	s.request(t, "GET", "/hello", nil, "User-Agent", "ua", "Referer", "http://r/")
	s.waitLog(t, regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] "GET /hello HTTP/1\.1" 200 13 "http://r/" "ua"$`))

	out, err := exec.Command(binPath, "serve", "--bind", "127.0.0.1:0", "--access-log-format", "%(nope)s", s.dir).CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(string(out), `unknown atom "nope"`) {
		t.Errorf("a bad format: %v\n%s", err, out)
	}
}

// TestRequestIDProxy follows X-Request-Id from a trusted and an untrusted
// peer (per --forwarded-allow-ips).
func TestRequestIDProxy(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-z]{10}-[0-9a-z]+$`)
	tests := []struct {
		desc    string
		allow   string
		want    string // "generated" for a fresh id
		logLine bool
	}{
		{"loopback is trusted by default", "127.0.0.1,::1", "from-proxy-1", true},
		{"an untrusted peer's id is replaced", "10.9.8.7", "generated", false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			s := startServerFiles(t, "", opsApps, "--forwarded-allow-ips", tt.allow)
			r := s.request(t, "GET", "/id", nil, "X-Request-Id", "from-proxy-1")
			id := r.body
			if tt.want == "generated" && !generated.MatchString(id) || tt.want != "generated" && id != tt.want {
				t.Errorf("lsgi.request_id = %q, want %s", id, tt.want)
			}
			if r.header.Get("X-Request-Id") != id {
				t.Errorf("X-Request-Id = %q, want %q", r.header.Get("X-Request-Id"), id)
			}
			r = s.request(t, "GET", "/boom", nil, "X-Request-Id", "from-proxy-1")
			s.waitLog(t, regexp.MustCompile(`msg="app error" .*request_id=`+regexp.QuoteMeta(r.header.Get("X-Request-Id"))))
		})
	}
}

// TestLuaLog checks lsgi.log records in the default text log.
func TestLuaLog(t *testing.T) {
	s := startServerFiles(t, "", opsApps)
	r := s.get(t, "/logs")
	id := r.header.Get("X-Request-Id")
	s.waitLog(t, regexp.MustCompile(`level=INFO msg="order placed" app=logs request_id=`+regexp.QuoteMeta(id)+
		` via=lsgi.log fields.order=42 fields.paid=true fields.user=ann$`))
}

// TestStartupSummary checks the summary line and its place before the
// server listens.
func TestStartupSummary(t *testing.T) {
	s := startServerFiles(t, "", opsApps)
	lines, _ := s.log.snapshot()
	summary, listening := -1, -1
	for i, l := range lines {
		if regexp.MustCompile(`msg="apps loaded" loaded=4 failed=1 took=\S+`).MatchString(l) {
			summary = i
		}
		if listeningRE.MatchString(l) {
			listening = i
		}
	}
	if summary < 0 || listening < summary {
		t.Errorf("summary at line %d, listening at %d; want the summary first:\n%s", summary, listening, s.log)
	}
}

// TestBusyPort starts a server on a port in use: it fails at once,
// before loading any app.
func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.lua"), []byte(opsApps["hello.lua"]), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--bind", ln.Addr().String()},
		{"--bind", "127.0.0.1:0", "--admin-bind", ln.Addr().String()},
	} {
		cmd := exec.Command(binPath, append(append([]string{"serve"}, args...), dir)...)
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 1 || !strings.Contains(string(out), "address already in use") {
			t.Errorf("lsgi serve %v on a busy port: %v\n%s", args, err, out)
		}
		if strings.Contains(string(out), "app mounted") {
			t.Errorf("lsgi serve %v loaded apps before failing to listen:\n%s", args, out)
		}
	}
}
