package host

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
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
		"SERVER_PROTOCOL", "HTTP/1.1", "SERVER_NAME", "example.org", "SERVER_PORT", "80", "REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5000")))
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

func TestFastCGI(t *testing.T) {
	h, _ := newTestHandler(t, Config{NoPlugins: true, Root: "/app", Apps: []App{
		{Mount: "/ok", Source: `return function(e, sr) sr("200 OK", {}) return {e.SCRIPT_NAME .. "|" .. e.PATH_INFO .. "|" .. e.SERVER_NAME .. "|" .. e.REQUEST_URI} end`},
		{Mount: "/mid", Source: `return function(e, sr) sr("200 OK", {}) local n = 0
			return function() n = n + 1 if n == 1 then return "part" end error("boom") end end`},
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ServeFastCGI(ln, h)
	defer ln.Close()

	out, ended := fcgiRequest(t, ln.Addr().String(), "/app/ok/x?q=1")
	if !ended || !strings.HasSuffix(out, "/app/ok|/x|example.org|/app/ok/x?q=1") {
		t.Errorf("ok: ended %v, stdout %q", ended, out)
	}
	// An app error after the headers ends the response early (FastCGI has
	// no way to mark it broken) and does not take the process down.
	out, _ = fcgiRequest(t, ln.Addr().String(), "/app/mid")
	if !strings.HasSuffix(out, "part") {
		t.Errorf("an app error after the headers: stdout %q, want it to end after \"part\"", out)
	}
	if out, ended := fcgiRequest(t, ln.Addr().String(), "/app/ok/y"); !ended || !strings.HasSuffix(out, "|/y|example.org|/app/ok/y") {
		t.Errorf("after an app error: ended %v, stdout %q", ended, out)
	}
}
