package tests

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// lsgi.http end to end: testdata/data/fetch.lua fetches the URL in its
// query string from a test server on a loopback address, which the host
// refuses unless --http-allow lets it through.

// loopbackServer serves h on addr (127.0.0.1:0 or 127.0.0.2:0) and counts
// its requests.
func loopbackServer(t *testing.T, addr string, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	var hits atomic.Int64
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestHTTPClientRefusesLoopbackByDefault(t *testing.T) {
	up, hits := loopbackServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })
	s := startServer(t, "data")
	r := s.get(t, "/fetch?"+up.URL+"/x")
	r.expectStatus(t, "fetch", http.StatusBadGateway)
	if !strings.Contains(r.body, "refused: 127.0.0.1 is a loopback address; an operator can allow it with --http-allow 127.0.0.1") {
		t.Errorf("error %q", r.body)
	}
	s.get(t, "/fetch/raw?"+up.URL+"/x").expect(t, "uncaught", http.StatusInternalServerError, "500 Internal Server Error\n")
	local := strings.Replace(up.URL, "127.0.0.1", "localhost", 1)
	if r := s.get(t, "/fetch?"+local+"/x"); r.status != http.StatusBadGateway || !strings.Contains(r.body, "loopback") {
		t.Errorf("localhost: %d %q", r.status, r.body)
	}
	if hits.Load() != 0 {
		t.Errorf("the loopback server saw %d requests", hits.Load())
	}
}

func TestHTTPClientAllowed(t *testing.T) {
	big := strings.Repeat("0123456789", 5000)
	target, targetHits := loopbackServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			fmt.Fprint(w, big)
			return
		}
		fmt.Fprintf(w, "target saw %s", r.URL.Path)
	})
	front, _ := loopbackServer(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		fmt.Fprintf(w, "front saw %s", r.URL.Path)
	})

	t.Run("allowed address", func(t *testing.T) {
		s := startServer(t, "data", "--http-allow", "127.0.0.1", "--http-max-body", "1000")
		s.get(t, "/fetch?"+target.URL+"/hello").expect(t, "fetch", 200, "target saw /hello")
		r := s.get(t, "/fetch?"+target.URL+"/big")
		r.expectStatus(t, "over --http-max-body", http.StatusBadGateway)
		if !strings.Contains(r.body, "larger than 1000 bytes") || !strings.Contains(r.body, "--http-max-body") {
			t.Errorf("error %q", r.body)
		}
		s.get(t, "/fetch/stream?"+target.URL+"/big").expect(t, "streamed past the cap", 200, big)
	})

	t.Run("redirect to a refused address", func(t *testing.T) {
		before := targetHits.Load()
		s := startServer(t, "data", "--http-allow", "127.0.0.2")
		s.get(t, "/fetch?"+front.URL+"/page").expect(t, "allowed", 200, "front saw /page")
		r := s.get(t, "/fetch?"+front.URL+"/hop?to="+url.QueryEscape(target.URL+"/secret"))
		r.expectStatus(t, "redirect to 127.0.0.1", http.StatusBadGateway)
		if !strings.Contains(r.body, "127.0.0.1 is not in the allow list") {
			t.Errorf("error %q", r.body)
		}
		if targetHits.Load() != before {
			t.Error("the redirect reached 127.0.0.1")
		}
	})
}
