package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// fcgiRecord builds one FastCGI record.
func fcgiRecord(typ uint8, id uint16, content []byte) []byte {
	var b bytes.Buffer
	pad := -len(content) & 7
	binary.Write(&b, binary.BigEndian, struct {
		Version, Type uint8
		ID, Length    uint16
		Padding, Res  uint8
	}{1, typ, id, uint16(len(content)), uint8(pad), 0})
	b.Write(content)
	b.Write(make([]byte, pad))
	return b.Bytes()
}

// fcgiParams encodes name-value pairs (all shorter than 128 bytes).
func fcgiParams(kv ...string) []byte {
	var b bytes.Buffer
	for i := 0; i < len(kv); i += 2 {
		b.WriteByte(byte(len(kv[i])))
		b.WriteByte(byte(len(kv[i+1])))
		b.WriteString(kv[i] + kv[i+1])
	}
	return b.Bytes()
}

// fcgiRequest sends one GET request as a web server would and returns the
// stdout it gets back and whether the request ended with END_REQUEST.
func fcgiRequest(t *testing.T, addr, uri string) (stdout string, ended bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	const begin, params, stdin, out, end = 1, 4, 5, 6, 3
	var req bytes.Buffer
	req.Write(fcgiRecord(begin, 1, []byte{0, 1, 0, 0, 0, 0, 0, 0})) // responder, close conn after
	req.Write(fcgiRecord(params, 1, fcgiParams("REQUEST_METHOD", "GET", "REQUEST_URI", uri,
		"SERVER_PROTOCOL", "HTTP/1.1", "SERVER_NAME", "example.org", "SERVER_PORT", "80", "REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5000",
		"REMOTE_USER", "ann")))
	req.Write(fcgiRecord(params, 1, nil))
	req.Write(fcgiRecord(stdin, 1, nil))
	if _, err := c.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for {
		var h [8]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return got.String(), false
		}
		body := make([]byte, int(h[4])<<8|int(h[5])+int(h[6]))
		if _, err := io.ReadFull(c, body); err != nil {
			return got.String(), false
		}
		switch h[1] {
		case out:
			got.Write(body[:int(h[4])<<8|int(h[5])])
		case end:
			return got.String(), true
		}
	}
}

// TestFastCGIMux serves a plain ServeMux over FastCGI: a Go handler beside
// LSGI apps, as one program behind nginx.
func TestFastCGIMux(t *testing.T) {
	h, err := host.New(host.Config{Root: "/app", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Plugins: []host.PluginSource{
		host.App{Mount: "/ok", Source: `return function(e, sr) sr("200 OK", {}) return {e.SCRIPT_NAME .. "|" .. e.PATH_INFO .. "|" .. e.SERVER_NAME .. "|" .. e.REQUEST_URI .. "|" .. tostring(e.REMOTE_USER)} end`},
		host.App{Mount: "/mid", Source: `return function(e, sr) sr("200 OK", {}) local n = 0
			return function() n = n + 1 if n == 1 then return "part" end error("boom") end end`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("/app/", h)
	mux.HandleFunc("/go", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "go handler") })
	mux.HandleFunc("/panics", func(w http.ResponseWriter, r *http.Request) { panic("a bug") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go transport.ServeFastCGI(ln, mux)
	defer ln.Close()
	addr := ln.Addr().String()

	tests := []struct {
		desc, uri, want string
	}{
		{"an LSGI app", "/app/ok/x?q=1", "/app/ok|/x|example.org|/app/ok/x?q=1|ann"},
		{"the Go handler", "/go", "go handler"},
		// An app error after the headers ends the response early (FastCGI
		// has no way to mark it broken) and does not take the process down.
		{"an app error after the headers", "/app/mid", "part"},
		{"a Go handler that panics", "/panics", ""},
		{"after both", "/app/ok/y", "|/y|example.org|/app/ok/y|ann"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			out, ended := fcgiRequest(t, addr, tt.uri)
			if !ended || !strings.HasSuffix(out, tt.want) {
				t.Errorf("ended %v, stdout %q, want it to end with %q", ended, out, tt.want)
			}
		})
	}
}

// TestFastCGIServerShutdown shuts down while a request is in flight: the
// request finishes and gets its END_REQUEST, Shutdown returns once it has,
// and a handler that never returns makes Shutdown give up at its context.
func TestFastCGIServerShutdown(t *testing.T) {
	tests := []struct {
		desc    string
		release bool // the handler returns when told; else it hangs
	}{
		{"the request in flight finishes", true},
		{"a request that never ends is cut at the grace period", false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			started, release := make(chan struct{}), make(chan struct{})
			srv := &transport.FastCGIServer{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				<-release
				io.WriteString(w, "finished")
			})}
			defer close(release)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			type result struct {
				out   string
				ended bool
			}
			answered := make(chan result, 1)
			go func() {
				out, ended := fcgiRequest(t, ln.Addr().String(), "/x")
				answered <- result{out, ended}
			}()
			<-started

			grace := 5 * time.Second
			if !tt.release {
				grace = 300 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			shut := make(chan error, 1)
			go func() { shut <- srv.Shutdown(ctx) }()
			if !tt.release {
				select {
				case err := <-shut:
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("Shutdown = %v, want the context's deadline", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Shutdown did not give up at its context's deadline")
				}
				if r := <-answered; r.ended {
					t.Errorf("the cut request looks complete: %q", r.out)
				}
				return
			}
			select {
			case err := <-shut:
				t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
				t.Errorf("the server still accepts connections during its shutdown")
			}
			release <- struct{}{}
			r := <-answered
			if !r.ended || !strings.HasSuffix(r.out, "finished") {
				t.Errorf("the request in flight: ended %v, stdout %q", r.ended, r.out)
			}
			if err := <-shut; err != nil {
				t.Errorf("Shutdown = %v", err)
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve = %v, want http.ErrServerClosed", err)
			}
		})
	}
}
