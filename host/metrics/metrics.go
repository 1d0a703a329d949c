// Package metrics exports an LSGI host's counters to Prometheus: a
// [prometheus.Collector] over [host.Handler.Status], for a program to
// register on its own registry. lsgi serve serves it at /metrics on
// --admin-bind.
//
// The request cycle counts in plain atomic counters that hang off each
// app (host.Config.Metrics); this package reads them only when scraped,
// so Prometheus adds nothing to a request.
//
// # Metrics
//
// Per app, with the label app (the app's name: "hello" for /hello, "index"
// for the root app):
//
//	lsgi_requests_total{app,code}              counter   requests by status code sent (499: the client left first)
//	lsgi_request_duration_seconds{app}         histogram from arrival to the end of the response
//	lsgi_requests_in_flight{app}               gauge     requests running now
//	lsgi_queue_wait_seconds{app}               histogram waits for a free Lua state, by requests that found none free
//	lsgi_queue_rejections_total{app}           counter   503s: no Lua state came free in time
//	lsgi_timeouts_total{app}                   counter   requests past their deadline (504, or cut short)
//	lsgi_app_errors_total{app}                 counter   Lua errors and contract breaches (500, or cut short)
//	lsgi_aborted_responses_total{app}          counter   responses that did not end normally
//	lsgi_app_up{app}                           gauge     1 when a version of the app serves
//	lsgi_app_load_failed{app}                  gauge     1 when the app's newest load failed
//	lsgi_app_loaded_timestamp_seconds{app}     gauge     when the serving version was swapped in
//
// Per host:
//
//	lsgi_build_info{version,goversion}         gauge     always 1
//	lsgi_ready                                 gauge     1 when the host is ready (host.Handler.Ready)
//	lsgi_plugins_mounted                       gauge     apps mounted, loaded or not
//	lsgi_lua_states                            gauge     Lua states open
//	lsgi_reloads_total{result}                 counter   loads after a plugin's first: result "ok" or "failed"
//	lsgi_unmatched_requests_total              counter   requests under no mount (404)
//
// The request metrics need host.Config.Metrics; without it only the load
// and host metrics are exported.
package metrics

import (
	"strconv"

	"github.com/lsgi/lsgi/host"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a [prometheus.Collector] for one [host.Handler]. It reads the
// handler's status at each scrape; it is safe for concurrent use.
type Collector struct {
	h *host.Handler

	requests, duration, inFlight, queueWait, rejections, timeouts, appErrors, aborted *prometheus.Desc
	up, loadFailed, loadedAt                                                          *prometheus.Desc
	build, ready, mounted, states, reloads, unmatched                                 *prometheus.Desc
}

// NewCollector returns the collector of h's metrics. Register it on a
// registry, as lsgi serve does:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(h))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
func NewCollector(h *host.Handler) *Collector {
	app := []string{"app"}
	return &Collector{
		h:          h,
		requests:   prometheus.NewDesc("lsgi_requests_total", "Requests that ended, by app and status code sent (499: the client left before any response).", []string{"app", "code"}, nil),
		duration:   prometheus.NewDesc("lsgi_request_duration_seconds", "Time from a request's arrival to the end of its response.", app, nil),
		inFlight:   prometheus.NewDesc("lsgi_requests_in_flight", "Requests running now.", app, nil),
		queueWait:  prometheus.NewDesc("lsgi_queue_wait_seconds", "Time waited for a free Lua state, by the requests that found every state busy.", app, nil),
		rejections: prometheus.NewDesc("lsgi_queue_rejections_total", "Requests answered 503 because no Lua state came free within the queue timeout.", app, nil),
		timeouts:   prometheus.NewDesc("lsgi_timeouts_total", "Requests that reached their deadline: 504, or cut short after their headers.", app, nil),
		appErrors:  prometheus.NewDesc("lsgi_app_errors_total", "Requests the app failed with a Lua error or a contract breach: 500, or cut short after their headers.", app, nil),
		aborted:    prometheus.NewDesc("lsgi_aborted_responses_total", "Responses that did not end normally: the client left, or the app failed after its headers.", app, nil),
		up:         prometheus.NewDesc("lsgi_app_up", "1 when a version of the app serves requests, 0 when it never loaded.", app, nil),
		loadFailed: prometheus.NewDesc("lsgi_app_load_failed", "1 when the app's newest load failed (an older version may still serve).", app, nil),
		loadedAt:   prometheus.NewDesc("lsgi_app_loaded_timestamp_seconds", "When the app's serving version was swapped in, in Unix seconds.", app, nil),
		build:      prometheus.NewDesc("lsgi_build_info", "The LSGI host's version and the Go version it was built with; always 1.", []string{"version", "goversion"}, nil),
		ready:      prometheus.NewDesc("lsgi_ready", "1 when the host is ready: its first load is over and it is not shutting down.", nil, nil),
		mounted:    prometheus.NewDesc("lsgi_plugins_mounted", "Apps mounted, whether they loaded or not.", nil, nil),
		states:     prometheus.NewDesc("lsgi_lua_states", "Lua states open, those of replaced versions still finishing requests included.", nil, nil),
		reloads:    prometheus.NewDesc("lsgi_reloads_total", "Loads of a plugin after its first (a save, SIGHUP), by result: ok or failed.", []string{"result"}, nil),
		unmatched:  prometheus.NewDesc("lsgi_unmatched_requests_total", "Requests under no mount, answered 404.", nil, nil),
	}
}

// Describe implements [prometheus.Collector].
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.duration, c.inFlight, c.queueWait, c.rejections, c.timeouts,
		c.appErrors, c.aborted, c.up, c.loadFailed, c.loadedAt, c.build, c.ready, c.mounted, c.states, c.reloads, c.unmatched} {
		ch <- d
	}
}

// Collect implements [prometheus.Collector].
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.h.Status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.build, 1, st.Version, st.GoVersion)
	gauge(c.ready, boolValue(st.Ready))
	gauge(c.mounted, float64(len(st.Apps)))
	gauge(c.states, float64(st.LiveStates))
	counter(c.reloads, st.ReloadsOK, "ok")
	counter(c.reloads, st.ReloadsFailed, "failed")
	counter(c.unmatched, st.Unmatched)
	for _, a := range st.Apps {
		gauge(c.up, boolValue(a.Serving), a.Name)
		gauge(c.loadFailed, boolValue(a.Error != nil), a.Name)
		if a.Serving {
			gauge(c.loadedAt, float64(a.LoadedAt.UnixNano())/1e9, a.Name)
		}
		if r := a.Requests; r != nil {
			c.collectRequests(ch, a.Name, r)
		}
	}
}

func (c *Collector) collectRequests(ch chan<- prometheus.Metric, app string, r *host.RequestStats) {
	for code, n := range r.Codes {
		label := strconv.Itoa(code)
		if code == 0 {
			label = "other"
		}
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(n), app, label)
	}
	ch <- histogram(c.duration, r.Duration, app)
	ch <- histogram(c.queueWait, r.QueueWait, app)
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(r.InFlight), app)
	for d, v := range map[*prometheus.Desc]uint64{c.rejections: r.Busy, c.timeouts: r.Timeouts, c.appErrors: r.AppErrors, c.aborted: r.Aborted} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), app)
	}
}

// histogram turns a host histogram into a Prometheus one, whose buckets
// are cumulative.
func histogram(d *prometheus.Desc, h host.Histogram, app string) prometheus.Metric {
	bounds := host.DurationBuckets()
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, b := range bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets, app)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
