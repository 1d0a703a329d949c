package tests

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestAppModuleWins checks the search order of docs/SPEC.md: the app's
// json.lua wins over the host's json, lsgi.json is the host's, and the
// shadowing is logged once, at load.
func TestAppModuleWins(t *testing.T) {
	s := startServer(t, "stdlib", "--states", "2")
	for range 3 {
		s.get(t, "/shadow").expect(t, "GET /shadow", http.StatusOK, "app [1,2]")
	}
	s.waitLog(t, regexp.MustCompile(`app module shadows a host module.* app=shadow module=json`))
	if n := strings.Count(s.log.String(), "app module shadows a host module"); n != 1 {
		t.Errorf("%d shadow warnings, want 1:\n%s", n, s.log)
	}
}

// TestStateMaxRequests checks that a state is replaced after serving
// --state-max-requests requests.
func TestStateMaxRequestsFlag(t *testing.T) {
	s := startServer(t, "stdlib", "--states", "1", "--state-max-requests", "2")
	var got []string
	for range 5 {
		r := s.get(t, "/counter")
		r.expectStatus(t, "GET /counter", http.StatusOK)
		got = append(got, r.body)
	}
	if strings.Join(got, ",") != "1,2,1,2,1" {
		t.Errorf("requests served per state: %v, want 1,2,1,2,1", got)
	}
}
