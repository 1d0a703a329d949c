package outbound

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counted is a test server that counts the requests it saw.
type counted struct {
	*httptest.Server
	hits atomic.Int64
}

// serveOn starts h on addr ("127.0.0.1:0", "127.0.0.2:0").
func serveOn(t *testing.T, addr string, h http.HandlerFunc) *counted {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	c := &counted{}
	c.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		h(w, r)
	})}}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func do(t *testing.T, c *Client, r *Request) (*Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Do(ctx, r)
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Seen-UA", r.UserAgent())
	w.Header().Add("Set-Cookie", "a=1")
	w.Header().Add("Set-Cookie", "b=2")
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s host=%s body=%s", r.Method, r.URL.Path, r.Host, body)
}

func TestLoopbackRefusedByDefault(t *testing.T) {
	srv := serveOn(t, "127.0.0.1:0", hello)
	c := newClient(t, Config{})
	for _, u := range []string{srv.URL + "/x", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/x"} {
		_, err := do(t, c, &Request{URL: u})
		var refused *RefusedError
		if !errors.As(err, &refused) {
			t.Errorf("%s: %v, want a refusal", u, err)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("the server saw %d requests", n)
	}
}

func TestAllowedReaches(t *testing.T) {
	srv := serveOn(t, "127.0.0.1:0", hello)
	c := newClient(t, Config{Allow: []string{"127.0.0.1"}})
	res, err := do(t, c, &Request{Method: "POST", URL: srv.URL + "/p", Body: []byte("hi"),
		Header: http.Header{"Host": {"virtual.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || res.Reason != "OK" || string(res.Body) != "POST /p host=virtual.example body=hi" {
		t.Errorf("got %d %q %q", res.Status, res.Reason, res.Body)
	}
	if res.Header.Get("X-Seen-UA") != "lsgi" || len(res.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("headers %v", res.Header)
	}
	// A name is not an address: localhost stays refused.
	if _, err := do(t, c, &Request{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}); err == nil {
		t.Error("localhost reached with only 127.0.0.1 allowed")
	}
}

func TestDialCheckAfterDNS(t *testing.T) {
	srv := serveOn(t, "127.0.0.1:0", hello)
	// The name passes the first check; the address it resolves to must
	// still be refused by the dialer.
	c := newClient(t, Config{Allow: []string{"localhost"}})
	_, err := do(t, c, &Request{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)})
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Addr == "" {
		t.Fatalf("%v, want a refusal of the dialed address", err)
	}
	if srv.hits.Load() != 0 {
		t.Error("the server was reached")
	}
}

func TestRedirects(t *testing.T) {
	target := serveOn(t, "127.0.0.1:0", hello)
	var loops atomic.Int64
	front := serveOn(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-loopback":
			http.Redirect(w, r, target.URL+"/secret", http.StatusFound)
		case "/to-localhost":
			http.Redirect(w, r, strings.Replace(target.URL, "127.0.0.1", "localhost", 1)+"/secret", http.StatusFound)
		case "/loop":
			loops.Add(1)
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/twice":
			http.Redirect(w, r, "/once", http.StatusMovedPermanently)
		case "/once":
			http.Redirect(w, r, "/end", http.StatusSeeOther)
		default:
			fmt.Fprint(w, "end of ", r.URL.Path)
		}
	})
	c := newClient(t, Config{Allow: []string{"127.0.0.2", "localhost"}})
	var refused *RefusedError
	for _, path := range []string{"/to-loopback", "/to-localhost"} {
		if _, err := do(t, c, &Request{URL: front.URL + path}); !errors.As(err, &refused) {
			t.Errorf("%s: %v, want a refusal", path, err)
		}
	}
	if target.hits.Load() != 0 {
		t.Error("a redirect reached the loopback server")
	}

	res, err := do(t, c, &Request{URL: front.URL + "/twice"})
	if err != nil || string(res.Body) != "end of /end" || !strings.HasSuffix(res.URL, "/end") {
		t.Errorf("two redirects: %v %v", res, err)
	}
	if _, err := do(t, c, &Request{URL: front.URL + "/twice", MaxRedirects: 1}); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("two redirects with a cap of 1: %v", err)
	}
	res, err = do(t, c, &Request{URL: front.URL + "/twice", MaxRedirects: -1})
	if err != nil || res.Status != 301 || res.Header.Get("Location") != "/once" {
		t.Errorf("no redirects: %v %v", res, err)
	}
	if _, err := do(t, c, &Request{URL: front.URL + "/loop", MaxRedirects: 50}); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("a loop: %v", err)
	}
	if n := loops.Load(); n != DefaultMaxRedirects+1 {
		t.Errorf("followed the loop %d times; a request may not raise the cap of %d", n, DefaultMaxRedirects)
	}
}

func TestBodyCap(t *testing.T) {
	srv := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 2048)))
	})
	c := newClient(t, Config{Allow: []string{"127.0.0.1"}, MaxBody: 2048})
	if res, err := do(t, c, &Request{URL: srv.URL}); err != nil || len(res.Body) != 2048 {
		t.Errorf("at the cap: %v", err)
	}
	var lim *LimitError
	if _, err := do(t, c, &Request{URL: srv.URL, MaxBody: 1000}); !errors.As(err, &lim) || lim.Limit != 1000 {
		t.Errorf("over a request's cap: %v", err)
	}
	if _, err := do(t, c, &Request{URL: srv.URL, MaxBody: 1 << 30}); err != nil {
		t.Errorf("a request cannot raise the cap, but 2048 bytes fit: %v", err)
	}
	// A streamed body is read in pieces, as large as it is.
	res, err := do(t, c, &Request{URL: srv.URL, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	n, err := io.Copy(io.Discard, res)
	if err != nil || n != 2048 || res.Body != nil {
		t.Errorf("stream: %d bytes, %v", n, err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("head "))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := newClient(t, Config{Allow: []string{"127.0.0.1"}})
	for _, tc := range []struct {
		desc   string
		req    Request
		ctxDur time.Duration
	}{
		{"request timeout", Request{Timeout: 200 * time.Millisecond}, 10 * time.Second},
		{"caller's deadline", Request{}, 200 * time.Millisecond},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), tc.ctxDur)
		start := time.Now()
		tc.req.URL = srv.URL
		_, err := c.Do(ctx, &tc.req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want the deadline", tc.desc, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: took %v", tc.desc, took)
		}
	}
}

func TestSchemesAndURLs(t *testing.T) {
	c := newClient(t, Config{})
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/", "/relative", "http://", "gopher://x"} {
		if _, err := do(t, c, &Request{URL: u}); err == nil || !strings.Contains(err.Error(), "http") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestHostsAndTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(hello))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := newClient(t, Config{
		Allow:   []string{"api.example.com", "127.0.0.1"},
		RootCAs: pool,
		Hosts:   map[string]string{"api.example.com:443": srv.Listener.Addr().String()},
	})
	res, err := do(t, c, &Request{URL: "https://api.example.com/v1"})
	if err != nil || string(res.Body) != "GET /v1 host=api.example.com body=" {
		t.Fatalf("%v %v", res, err)
	}
	// The mapped address is checked like any other.
	strict := newClient(t, Config{Allow: []string{"api.example.com"}, RootCAs: pool,
		Hosts: map[string]string{"api.example.com:443": srv.Listener.Addr().String()}})
	var refused *RefusedError
	if _, err := do(t, strict, &Request{URL: "https://api.example.com/v1"}); !errors.As(err, &refused) {
		t.Errorf("mapped to loopback without allowing it: %v", err)
	}
}

func TestEnvironmentProxyIgnored(t *testing.T) {
	proxy := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "proxied") })
	srv := serveOn(t, "127.0.0.1:0", hello)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	c := newClient(t, Config{Allow: []string{"127.0.0.1"}})
	res, err := do(t, c, &Request{URL: srv.URL + "/direct"})
	if err != nil || !strings.HasPrefix(string(res.Body), "GET /direct") || proxy.hits.Load() != 0 {
		t.Errorf("%v %v; proxy hits %d", res, err, proxy.hits.Load())
	}
}
