package tests

import (
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeWorkers reads the supervisor's /metrics with the Prometheus text
// parser.
func scrapeWorkers(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := httpGet(t, admin+"/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics = %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// workerLabels are the values of the worker label in fam.
func workerLabels(fam *dto.MetricFamily) map[string]bool {
	pids := map[string]bool{}
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "worker" {
				pids[l.GetValue()] = true
			}
		}
	}
	return pids
}

// TestWorkersAdmin: with --workers, --admin-bind is the supervisor's. Its
// /metrics holds every worker's metrics under a worker label, which add up
// to the traffic sent; /healthz and /readyz answer for the whole; the
// status page links each worker's own; a killed worker's socket is dropped
// and its replacement scraped.
func TestWorkersAdmin(t *testing.T) {
	s := startServer(t, "workers", "--workers", "2", "--admin-bind", "127.0.0.1:0")
	pids := pidsOf(waitLogCount(t, s.log, workerReadyRE, 2))
	admin := s.adminBase(t)
	if resp, body := httpGet(t, admin+"/healthz"); resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d %q", resp.StatusCode, body)
	}
	waitReady(t, admin)

	const requests = 30
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	for i := range requests {
		if body, err := getBody(client, s.base+"/hi"); err != nil || body != "hi\n" {
			t.Fatalf("request %d: %q, %v", i, body, err)
		}
	}

	fams := scrapeWorkers(t, admin)
	total := 0.0
	for _, m := range fams["lsgi_requests_total"].GetMetric() {
		if hasLabels(m, map[string]string{"app": "hi", "code": "200"}) {
			total += m.GetCounter().GetValue()
		}
	}
	if total != requests {
		t.Errorf("lsgi_requests_total{app=hi} summed over the workers = %v, want %d", total, requests)
	}
	got := workerLabels(fams["lsgi_build_info"])
	for _, pid := range pids {
		if !got[strconv.Itoa(pid)] {
			t.Errorf("no metrics of worker %d: worker labels %v", pid, got)
		}
	}
	if n := fams["lsgi_workers_scraped"].GetMetric()[0].GetGauge().GetValue(); n != 2 {
		t.Errorf("lsgi_workers_scraped = %v, want 2", n)
	}

	resp, page := httpGet(t, admin+"/")
	for _, pid := range pids {
		if !strings.Contains(page, "/worker/"+strconv.Itoa(pid)+"/") {
			t.Errorf("the status page (%d) does not link worker %d:\n%s", resp.StatusCode, pid, page)
		}
	}
	resp, page = httpGet(t, admin+"/worker/"+strconv.Itoa(pids[0])+"/")
	if resp.StatusCode != 200 || !strings.Contains(page, "LSGI status") || !strings.Contains(page, "/hi") {
		t.Errorf("worker %d's status page = %d:\n%s", pids[0], resp.StatusCode, page)
	}
	if resp, _ := httpGet(t, admin+"/worker/1/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/worker/1/ = %d, want 404", resp.StatusCode)
	}

	// A worker killed outright leaves its socket file; the next scrape
	// drops it, and the replacement is scraped once it is ready.
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, s.log, workerReadyRE, 3)
	deadline := time.Now().Add(workerTimeout)
	for {
		fams := scrapeWorkers(t, admin)
		labels := workerLabels(fams["lsgi_build_info"])
		n := fams["lsgi_workers_scraped"].GetMetric()[0].GetGauge().GetValue()
		if n == 2 && len(labels) == 2 && !labels[strconv.Itoa(pids[0])] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after worker %d was killed: %v workers scraped, labels %v", pids[0], n, labels)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitReady(t, admin)
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, admin string) {
	t.Helper()
	deadline := time.Now().Add(workerTimeout)
	for {
		resp, body := httpGet(t, admin+"/readyz")
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q after %v", resp.StatusCode, body, workerTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
