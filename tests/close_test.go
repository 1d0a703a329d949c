package tests

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestClose checks that result:close() is called exactly once however the
// response ends. The fixtures' close() logs "CLOSED id=<id>". With
// --states 1, a later /sync request on the same plugin runs only after the
// earlier request has ended, so once its "SYNC" line is in the log, every
// close() call of the earlier request is too.
func TestClose(t *testing.T) {
	s := startServer(t, "close", "--states", "1", "--timeout", "20s")

	closedOnce := func(t *testing.T, plugin, id string) {
		t.Helper()
		s.waitLog(t, idRE("CLOSED", id))
		sync := newID()
		s.get(t, plugin+"/sync?id="+sync).expect(t, "sync request", http.StatusOK, "sync")
		s.waitLog(t, idRE("SYNC", sync))
		if n := s.log.count(idRE("CLOSED", id)); n != 1 {
			t.Errorf("close() was called %d times, want exactly once", n)
		}
	}

	for _, tc := range []struct {
		name   string
		method string
		path   string
		check  func(t *testing.T, r *response)
	}{
		{"normal end", "GET", "/close/normal", func(t *testing.T, r *response) {
			r.expect(t, "response", http.StatusOK, "abc")
		}},
		{"array table with a close field", "GET", "/close/array", func(t *testing.T, r *response) {
			r.expect(t, "response", http.StatusOK, "xy")
		}},
		{"app error at the first step", "GET", "/close/error-first", func(t *testing.T, r *response) {
			r.expectStatus(t, "response", http.StatusInternalServerError)
		}},
		{"app error mid-iteration", "GET", "/close/error-mid", func(t *testing.T, r *response) {
			if r.status != http.StatusOK || r.bodyErr == nil {
				t.Errorf("got %d %q (body error %v), want 200 and an aborted body", r.status, r.body, r.bodyErr)
			}
		}},
		{"non-string chunk", "GET", "/close/bad-chunk", func(t *testing.T, r *response) {
			r.expectStatus(t, "response", http.StatusInternalServerError)
		}},
		{"no start_response", "GET", "/close/no-start-response", func(t *testing.T, r *response) {
			r.expectStatus(t, "response", http.StatusInternalServerError)
		}},
		{"HEAD", "HEAD", "/close/head", func(t *testing.T, r *response) {
			r.expect(t, "response", http.StatusOK, "")
			if cl := r.header.Get("Content-Length"); cl != "5" {
				t.Errorf("Content-Length = %q, want the app's 5", cl)
			}
		}},
		{"204 with a body", "GET", "/close/no-content", func(t *testing.T, r *response) {
			r.expect(t, "response", http.StatusNoContent, "")
		}},
		{"Content-Length reached, rest cut", "GET", "/close/cl-long", func(t *testing.T, r *response) {
			r.expect(t, "response", http.StatusOK, "abc")
		}},
		{"close() raises: logged, not retried, body intact", "GET", "/close/close-raises", func(t *testing.T, r *response) {
			r.expect(t, "response", http.StatusOK, "abc")
			s.waitLog(t, regexp.MustCompile(`close failed on purpose`))
		}},
		{"body shorter than Content-Length", "GET", "/close/cl-short", func(t *testing.T, r *response) {
			if r.status != http.StatusOK || r.body != "abc" || r.bodyErr == nil {
				t.Errorf("got %d %q (body error %v), want 200 \"abc\" and a short body", r.status, r.body, r.bodyErr)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newID()
			r := s.request(t, tc.method, tc.path+"?id="+id, nil)
			tc.check(t, r)
			closedOnce(t, "/close", id)
		})
	}

	t.Run("HEAD of an endless stream", func(t *testing.T) {
		id := newID()
		s.request(t, "HEAD", "/endless?id="+id, nil).expect(t, "HEAD /endless", http.StatusOK, "")
		closedOnce(t, "/endless", id)
	})

	t.Run("client disconnect", func(t *testing.T) {
		id := newID()
		c := s.dial(t)
		c.send(rawRequest("GET", "/endless?id="+id, nil, ""))
		resp := c.head("GET")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		buf := make([]byte, 64)
		var got strings.Builder
		for !strings.Contains(got.String(), "tick 1\n") {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				t.Fatalf("reading the first chunk: %v (got %q)", err, got.String())
			}
		}
		c.conn.Close()
		start := time.Now()
		line := s.waitLog(t, idRE("CLOSED", id))
		t.Logf("close() ran %v after the disconnect: %s", time.Since(start).Round(time.Millisecond), line)
		closedOnce(t, "/endless", id)
	})
}
