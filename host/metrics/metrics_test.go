package metrics_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/host/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func newHandler(t *testing.T, withMetrics bool) *host.Handler {
	t.Helper()
	h, err := host.New(host.Config{Metrics: withMetrics, Logger: slog.New(slog.DiscardHandler), Plugins: []host.PluginSource{
		host.App{Mount: "/hello", Name: "hello", Source: `return function(e, sr) sr("200 OK", {}) return {"hi"} end`},
		host.App{Mount: "/missing", Name: "missing", Source: `return function(e, sr) sr("404 Not Found", {}) return {"no"} end`},
		host.App{Mount: "/broken", Name: "broken", Source: `return function(`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func serve(h *host.Handler, path string, n int) {
	for range n {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
}

// gather registers c alone and returns its families by name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// find returns the metric of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match == len(want) {
			return m
		}
	}
	return nil
}

func TestCollector(t *testing.T) {
	h := newHandler(t, true)
	serve(h, "/hello", 5)
	serve(h, "/missing", 2)
	serve(h, "/broken", 1)
	serve(h, "/nowhere", 3)
	fams := gather(t, metrics.NewCollector(h))

	tests := []struct {
		desc, name string
		labels     map[string]string
		want       float64
	}{
		{"200s of hello", "lsgi_requests_total", map[string]string{"app": "hello", "code": "200"}, 5},
		{"404s the app sent", "lsgi_requests_total", map[string]string{"app": "missing", "code": "404"}, 2},
		{"500s of a plugin that failed to load", "lsgi_requests_total", map[string]string{"app": "broken", "code": "500"}, 1},
		{"requests under no mount", "lsgi_unmatched_requests_total", nil, 3},
		{"nothing in flight", "lsgi_requests_in_flight", map[string]string{"app": "hello"}, 0},
		{"hello serves", "lsgi_app_up", map[string]string{"app": "hello"}, 1},
		{"broken does not", "lsgi_app_up", map[string]string{"app": "broken"}, 0},
		{"broken failed", "lsgi_app_load_failed", map[string]string{"app": "broken"}, 1},
		{"hello did not", "lsgi_app_load_failed", map[string]string{"app": "hello"}, 0},
		{"plugins mounted", "lsgi_plugins_mounted", nil, 3},
		{"ready", "lsgi_ready", nil, 1},
		{"no reload yet", "lsgi_reloads_total", map[string]string{"result": "ok"}, 0},
		{"build info", "lsgi_build_info", map[string]string{"version": host.Version}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			m := find(fams, tt.name, tt.labels)
			if m == nil {
				t.Fatalf("no %s%v", tt.name, tt.labels)
			}
			var got float64
			switch {
			case m.Counter != nil:
				got = m.Counter.GetValue()
			case m.Gauge != nil:
				got = m.Gauge.GetValue()
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		})
	}
	d := find(fams, "lsgi_request_duration_seconds", map[string]string{"app": "hello"}).GetHistogram()
	if d.GetSampleCount() != 5 || d.GetSampleSum() <= 0 || len(d.GetBucket()) != len(host.DurationBuckets()) {
		t.Errorf("hello's duration histogram = %v", d)
	}
	if last := d.GetBucket()[len(d.GetBucket())-1]; last.GetCumulativeCount() != 5 || last.GetUpperBound() != 30 {
		t.Errorf("the last bucket = %v, want every request under 30s", last)
	}
	if q := find(fams, "lsgi_queue_wait_seconds", map[string]string{"app": "hello"}).GetHistogram(); q.GetSampleCount() != 0 {
		t.Errorf("queue waits with states free = %v, want none", q)
	}
}

func TestCollectorWithoutMetrics(t *testing.T) {
	h := newHandler(t, false)
	serve(h, "/hello", 2)
	fams := gather(t, metrics.NewCollector(h))
	if _, ok := fams["lsgi_requests_total"]; ok {
		t.Error("request counts exported without Config.Metrics")
	}
	if find(fams, "lsgi_app_up", map[string]string{"app": "hello"}) == nil {
		t.Error("load metrics missing without Config.Metrics")
	}
}

func TestCollectorLint(t *testing.T) {
	h := newHandler(t, true)
	serve(h, "/hello", 1)
	problems, err := testutil.CollectAndLint(metrics.NewCollector(h))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "lsgi_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}
