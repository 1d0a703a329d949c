package host

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStalledBodyIsBounded sends requests that declare a body of 1000
// bytes and never send it, on every path of the request cycle: the
// response comes and the connection closes within UnreadBodyTimeout and a
// little, far inside the request timeout; no path waits for the body for
// ever. A client that sends its body keeps its connection.
func TestStalledBodyIsBounded(t *testing.T) {
	h, _ := newTestHandler(t, Config{
		Timeout:      20 * time.Second,
		QueueTimeout: 200 * time.Millisecond,
		States:       1,
		MaxBodyBytes: 500,
		Plugins: []PluginSource{
			App{Mount: "/ignores", Source: `return function(e, sr) sr("200 OK", {}) return {"ignored"} end`},
			App{Mount: "/broken", Source: `error("broken on purpose")`},
			App{Mount: "/busy", Source: `return function(e, sr)
				if e.QUERY_STRING == "hold" then local t = os.clock() while os.clock() - t < 3 do end end
				sr("200 OK", {}) return {"done"} end`},
			App{Mount: "/reads", Source: `return function(e, sr)
				local ok = pcall(function() return e["lsgi.input"]:read("*a") end)
				sr("200 OK", {}) return {tostring(ok)} end`},
		},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := []struct {
		desc       string
		path       string
		length     string
		wantStatus int
	}{
		{"no such app: 404", "/nothing", "1000", http.StatusNotFound},
		{"an app that failed to load: 500", "/broken", "400", http.StatusInternalServerError},
		{"a body over the limit: 413", "/ignores", "1000", http.StatusRequestEntityTooLarge},
		{"an app that ignores the body", "/ignores", "400", http.StatusOK},
		{"every state busy: 503", "/busy", "400", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if tt.wantStatus == http.StatusServiceUnavailable {
				go http.Get(srv.URL + "/busy?hold")
				time.Sleep(300 * time.Millisecond)
			}
			start := time.Now()
			resp, closed := stalledRequest(t, srv.Listener.Addr().String(), tt.path, tt.length)
			took := time.Since(start)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if !closed {
				t.Errorf("the connection stayed open")
			}
			if limit := UnreadBodyTimeout + 2*time.Second; took > limit {
				t.Errorf("answered and closed after %v, want within %v", took, limit)
			}
		})
	}

	t.Run("an app that reads the body waits for it until the request's deadline", func(t *testing.T) {
		h2, _ := newTestHandler(t, Config{Timeout: time.Second, Plugins: []PluginSource{App{Mount: "/reads", Source: `return function(e, sr)
			local ok = pcall(function() return e["lsgi.input"]:read("*a") end)
			sr("200 OK", {}) return {tostring(ok)} end`}}})
		srv2 := httptest.NewServer(h2)
		defer srv2.Close()
		start := time.Now()
		c, err := net.Dial("tcp", srv2.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		io.WriteString(c, "POST /reads HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
		// A 504, or a cut connection when the transport saw the failed read
		// first: either way, closed once the deadline has passed.
		_, err = io.ReadAll(c)
		if took := time.Since(start); err != nil || took > 4*time.Second {
			t.Errorf("closed after %v (%v), want closed within the 1s timeout and a little", took, err)
		}
	})

	t.Run("a body that arrives keeps the connection", func(t *testing.T) {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for _, path := range []string{"/nothing", "/ignores"} {
			io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("POST %s on a kept connection: %v", path, err)
			}
			io.Copy(io.Discard, resp.Body)
			if resp.Close {
				t.Errorf("POST %s closed the connection", path)
			}
		}
	})
}

// stalledRequest sends a POST that declares length bytes of body and
// sends none, reads the response and reports whether the server closed the
// connection after it.
func stalledRequest(t *testing.T, addr, path, length string) (*http.Response, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: "+length+"\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	rest, err := io.ReadAll(br)
	return resp, err == nil && !strings.Contains(string(rest), "HTTP/1.1")
}
