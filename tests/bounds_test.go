package tests

import (
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBombsStayBounded sends the requests that took the host down before
// the limits existed (string.rep of a terabyte, lsgi.input:read(2^40), a
// JSON document shared at every level, ...) to a server running under a
// memory limit of its own: each must fail fast with the limit named in the
// log, and the server must go on answering.
func TestBombsStayBounded(t *testing.T) {
	var wrapper []string
	if p, err := exec.LookPath("prlimit"); err == nil && !raceEnabled {
		// 2 GiB of address space: a terabyte string would kill the
		// process, 1 GB of them would too.
		wrapper = []string{p, "--as=2147483648", "--"}
	} else {
		// A -race binary needs far more address space than any real
		// limit leaves it; GOMEMLIMIT still makes a runaway heap visible.
		t.Log("running without an address-space limit (no prlimit, or a -race build)")
	}
	s := startServerUnder(t, wrapper, []string{"GOMEMLIMIT=512MiB"}, "bounds", nil)
	bombs := []struct {
		path string
		want *regexp.Regexp
	}{
		{"/rep40", regexp.MustCompile(`string\.rep: a result of 1099511627776 x 1 bytes exceeds the string-bytes limit of 64 MiB`)},
		{"/rep1e9", regexp.MustCompile(`string\.rep: a result of 1000000000 x 1 bytes exceeds the string-bytes limit`)},
		{"/json", regexp.MustCompile(`json\.encode: .*exceeds the data-nodes limit of 1000000`)},
		{"/template", regexp.MustCompile(`exceeds the data-nodes limit`)},
		{"/concat", regexp.MustCompile(`table\.concat: the joined string exceeds the string-bytes limit`)},
		{"/format", regexp.MustCompile(`string\.format: the formatted string exceeds the string-bytes limit`)},
	}
	for _, b := range bombs {
		start := time.Now()
		r := s.get(t, "/bombs"+b.path)
		r.expectStatus(t, "GET /bombs"+b.path, http.StatusInternalServerError)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("GET /bombs%s took %v", b.path, d)
		}
		s.waitLog(t, b.want)
		s.get(t, "/health").expectStatus(t, "GET /health after "+b.path, http.StatusOK)
	}

	// lsgi.input:read(2^40) with no body returns nil at once; with a body,
	// the body.
	r := s.get(t, "/bombs/read40")
	r.expectStatus(t, "GET /bombs/read40", http.StatusOK)
	s.request(t, http.MethodPost, "/bombs/read40", strings.NewReader("hello")).expect(t, "POST /bombs/read40", http.StatusOK, "hello")

	r = s.get(t, "/bombs/caught")
	r.expectStatus(t, "GET /bombs/caught", http.StatusOK)
	if !strings.Contains(r.body, "caught: true") || !strings.Contains(r.body, "--limit string-bytes=N") {
		t.Errorf("the error is not catchable or does not say how to raise the limit: %q", r.body)
	}
}

// TestLimitFlag raises and lowers limits from the command line.
func TestLimitFlag(t *testing.T) {
	s := startServer(t, "bounds", "--limit", "string-bytes=1KiB", "--limit", "data-nodes=10")
	r := s.get(t, "/bombs/caught")
	r.expectStatus(t, "GET /bombs/caught", http.StatusOK)
	if !strings.Contains(r.body, "the string-bytes limit of 1 KiB") {
		t.Errorf("--limit string-bytes=1KiB not applied: %q", r.body)
	}
	s.get(t, "/bombs/json").expectStatus(t, "GET /bombs/json", http.StatusInternalServerError)
	s.waitLog(t, regexp.MustCompile(`data-nodes limit of 10 `))
}
