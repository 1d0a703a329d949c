package fast_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport/fast"
)

// testApp answers by path: /hello with a Content-Length, /stream with
// chunks from an iterator, /reason with its own reason phrase, /date with
// its own Date, /nocontent with 204, /slow after a pause, /fail by failing
// after its first chunk, and /echo with the request body.
const testApp = `
return function(env, sr)
  local p = env.PATH_INFO
  if p == "/hello" then sr("200 OK", {{"Content-Type", "text/plain"}}) return {"hello"} end
  if p == "/stream" then
    sr("200 OK", {})
    local i = 0
    return function() i = i + 1 if i <= 3 then return "c" .. i end end
  end
  if p == "/reason" then sr("404 No Such Thing", {}) return {"x"} end
  if p == "/date" then sr("200 OK", {{"Date", "Mon, 01 Jan 2001 00:00:00 GMT"}}) return {"d"} end
  if p == "/nocontent" then sr("204 No Content", {}) return {} end
  if p == "/slow" then
    local t = os.clock() while os.clock() - t < 0.3 do end
    sr("200 OK", {}) return {"slow"}
  end
  if p == "/fail" then
    sr("200 OK", {})
    local i = 0
    return function() i = i + 1 if i == 1 then return "part" end error("boom") end
  end
  if p == "/echo" then
    local body = env["lsgi.input"]:read()
    sr("200 OK", {}) return {"[" .. body .. "]"}
  end
  sr("200 OK", {}) return {p}
end`

func startServer(t *testing.T, tweak func(*fast.Server)) (*fast.Server, string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := host.New(host.Config{Plugins: []host.PluginSource{host.App{Mount: "/", Source: testApp}}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s := &fast.Server{Handler: h, Logger: logger}
	if tweak != nil {
		tweak(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; !errors.Is(err, fast.ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
		h.Close()
	})
	return s, ln.Addr().String()
}

// exchange sends raw on a new connection and returns what the server
// sent until it closed the connection or went quiet for quiet.
func exchange(t *testing.T, addr, raw string, quiet time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			return got.String()
		}
	}
}

// readResponses parses n responses from text.
func readResponses(t *testing.T, text, method string, n int) []*http.Response {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(text))
	var out []*http.Response
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v in %q", i+1, err, text)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v in %q", i+1, err, text)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
	return out
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func TestResponses(t *testing.T) {
	_, addr := startServer(t, nil)
	const quiet = 300 * time.Millisecond // /slow takes as long
	tests := []struct {
		desc, raw string
		check     func(t *testing.T, text string)
	}{
		{"a known length", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			r := readResponses(t, text, "GET", 1)[0]
			if r.StatusCode != 200 || r.ContentLength != 5 || bodyOf(r) != "hello" || r.Header.Get("Date") == "" {
				t.Errorf("got %d, length %d, Date %q", r.StatusCode, r.ContentLength, r.Header.Get("Date"))
			}
		}},
		{"an iterator is chunked", "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			r := readResponses(t, text, "GET", 1)[0]
			if len(r.TransferEncoding) != 1 || bodyOf(r) != "c1c2c3" {
				t.Errorf("Transfer-Encoding %q in %q", r.TransferEncoding, text)
			}
		}},
		{"the app's reason phrase and Date", "GET /reason HTTP/1.1\r\nHost: x\r\n\r\nGET /date HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			rs := readResponses(t, text, "GET", 2)
			if rs[0].Status != "404 No Such Thing" {
				t.Errorf("status %q", rs[0].Status)
			}
			if d := rs[1].Header.Values("Date"); len(d) != 1 || d[0] != "Mon, 01 Jan 2001 00:00:00 GMT" {
				t.Errorf("Date %q", d)
			}
		}},
		{"204 has no framing", "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			if strings.Contains(text, "Content-Length") || strings.Contains(text, "Transfer-Encoding") {
				t.Errorf("framing on a 204: %q", text)
			}
		}},
		{"pipelined responses keep their order", "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			rs := readResponses(t, text, "GET", 3)
			if b := bodyOf(rs[0]) + "|" + bodyOf(rs[1]) + "|" + bodyOf(rs[2]); b != "slow|c1c2c3|/a" {
				t.Errorf("bodies %q", b)
			}
		}},
		{"HTTP/1.0 keep-alive with a length", "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\n\r\n", func(t *testing.T, text string) {
			rs := readResponses(t, text, "GET", 2)
			if rs[0].Header.Get("Connection") != "keep-alive" || rs[1].Proto != "HTTP/1.0" {
				t.Errorf("got %q", text)
			}
		}},
		{"HTTP/1.0 with no length ends with the connection", "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", func(t *testing.T, text string) {
			if !strings.HasSuffix(text, "\r\n\r\nc1c2c3") || strings.Contains(text, "chunked") {
				t.Errorf("got %q", text)
			}
		}},
		{"an aborted stream has no last chunk", "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			if !strings.Contains(text, "part") || strings.HasSuffix(text, "0\r\n\r\n") {
				t.Errorf("got %q", text)
			}
		}},
		{"100 Continue when the app reads", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc", func(t *testing.T, text string) {
			if !strings.HasPrefix(text, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200") || !strings.HasSuffix(text, "[abc]") {
				t.Errorf("got %q", text)
			}
		}},
		{"no 100 Continue when the app does not read", "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", func(t *testing.T, text string) {
			r := readResponses(t, text, "POST", 1)[0]
			if r.StatusCode != 200 || !r.Close {
				t.Errorf("got %q", text)
			}
		}},
		{"a chunked upload", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			rs := readResponses(t, text, "POST", 2)
			if bodyOf(rs[0]) != "[abc]" || bodyOf(rs[1]) != "/a" {
				t.Errorf("got %q", text)
			}
		}},
		{"both Content-Length and Transfer-Encoding close", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			rs := readResponses(t, text, "POST", 1)
			if bodyOf(rs[0]) != "[a]" || !rs[0].Close || strings.Contains(text, "/a") {
				t.Errorf("got %q", text)
			}
		}},
		{"OPTIONS * is the server's", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", func(t *testing.T, text string) {
			r := readResponses(t, text, "OPTIONS", 1)[0]
			if r.StatusCode != 200 || r.ContentLength != 0 {
				t.Errorf("got %q", text)
			}
		}},
		{"a long header grows the buffer", "GET /hello HTTP/1.1\r\nHost: x\r\nX-Long: " + strings.Repeat("a", 20000) + "\r\n\r\n", func(t *testing.T, text string) {
			if r := readResponses(t, text, "GET", 1)[0]; r.StatusCode != 200 {
				t.Errorf("got %q", text)
			}
		}},
		{"headers over MaxHeaderBytes get 431", "GET /hello HTTP/1.1\r\nHost: x\r\nX-Long: " + strings.Repeat("a", 70000) + "\r\n\r\n", func(t *testing.T, text string) {
			if r := readResponses(t, text, "GET", 1)[0]; r.StatusCode != 431 {
				t.Errorf("got %q", text[:min(len(text), 200)])
			}
		}},
		{"a malformed request gets 400", "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", func(t *testing.T, text string) {
			if r := readResponses(t, text, "GET", 1)[0]; r.StatusCode != 400 {
				t.Errorf("got %q", text)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			tt.check(t, exchange(t, addr, tt.raw, 3*quiet))
		})
	}
}

func TestTimeouts(t *testing.T) {
	_, addr := startServer(t, func(s *fast.Server) {
		s.IdleTimeout = 100 * time.Millisecond
		s.ReadHeaderTimeout = 100 * time.Millisecond
	})
	tests := []struct{ desc, raw string }{
		{"an idle kept-alive connection closes", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"a header that never ends closes", "GET /hello HTTP/1.1\r\nHost: x\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			start := time.Now()
			exchange(t, addr, tt.raw, 5*time.Second) // returns when the server closes
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("closed after %v", d)
			}
		})
	}
}

func TestShutdownFinishesRequests(t *testing.T) {
	s, addr := startServer(t, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // the request is in flight
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || bodyOf(resp) != "slow" || !resp.Close {
		t.Fatalf("the request in flight: %v", err)
	}
	idle.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("the idle connection: read %d, %v; want it closed", n, err)
	}
}
