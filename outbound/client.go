package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults of [Config].
const (
	DefaultMaxBody      = 16 << 20
	DefaultMaxRedirects = 5
	DefaultTimeout      = 30 * time.Second
	DefaultUserAgent    = "lsgi"
)

// Config configures a [Client]. The zero value reaches public addresses
// only, with the default caps.
type Config struct {
	// Allow are the patterns of the [Policy]; none means any public
	// destination.
	Allow []string

	// MaxBody bounds a response body read whole; the default is 16 MiB.
	// A request may set a lower bound, not a higher one.
	MaxBody int64

	// MaxRedirects bounds the redirects one request follows; the default
	// is 5, and a negative value follows none. A request may set a lower
	// bound, not a higher one.
	MaxRedirects int

	// Timeout bounds one request, body included, when the request sets
	// none; the default is 30s. The caller's context bounds it too.
	Timeout time.Duration

	// UserAgent is sent when a request sets no User-Agent; the default is
	// "lsgi".
	UserAgent string

	// RootCAs, if set, replaces the system's certificate authorities for
	// https.
	RootCAs *x509.CertPool

	// Hosts maps a "host:port" to the "address:port" dialed instead, as
	// /etc/hosts would. The address is still checked by the [Policy]. For
	// tests, and for names the system resolver does not know.
	Hosts map[string]string
}

// Client is an HTTP client that keeps to a [Policy] and to size, time and
// redirect caps. One Client is shared by every app of a host; it is safe
// for concurrent use.
type Client struct {
	cfg       Config
	policy    *Policy
	transport *http.Transport
}

// New returns a Client for cfg; it fails on a bad allow pattern.
func New(cfg Config) (*Client, error) {
	policy, err := ParsePolicy(cfg.Allow)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	c := &Client{cfg: cfg, policy: policy}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: c.control}
	c.transport = &http.Transport{
		Proxy: nil, // never the environment's proxy: it would dial for us, unchecked
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := cfg.Hosts[addr]; ok {
				addr = to
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return c, nil
}

// Policy returns the client's destination policy.
func (c *Client) Policy() *Policy { return c.policy }

// MaxBody returns the cap on a body read whole.
func (c *Client) MaxBody() int64 { return c.cfg.MaxBody }

// Close closes the idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// control runs for every connection the dialer makes, after DNS, with the
// address about to be dialed: the place where the second check of the
// Policy cannot be sidestepped by DNS or by a redirect.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Host: address, Addr: address, Reason: "not an IP address and port"}
	}
	return c.policy.CheckAddr(ap.Addr())
}

// Request is one outbound request.
type Request struct {
	Method string // "" means GET
	URL    string // http:// or https://
	Header http.Header
	Body   []byte

	// Timeout bounds the request, body included; 0 means the client's.
	Timeout time.Duration
	// MaxBody lowers the client's cap on a body read whole; 0 keeps it.
	MaxBody int64
	// MaxRedirects lowers the client's redirect cap; 0 keeps it, a
	// negative value follows none (the 3xx itself is the response).
	MaxRedirects int
	// Stream leaves the body unread: read it with [Response.Read].
	Stream bool
}

// Response is the answer to a [Request].
type Response struct {
	Status int    // 200
	Reason string // "OK"
	Header http.Header
	URL    string // after redirects
	Body   []byte // the whole body, unless the request streamed

	body    io.ReadCloser
	maxBody int64
	cancel  context.CancelFunc
}

// ErrTooManyRedirects stops a request that was redirected more often than
// its cap allows.
var ErrTooManyRedirects = errors.New("outbound: too many redirects")

// LimitError is a response body larger than its cap.
type LimitError struct{ Limit int64 }

func (e *LimitError) Error() string {
	return fmt.Sprintf("outbound: the response body is larger than %d bytes", e.Limit)
}

// Do sends r and returns the response, having read its body unless r
// streams. The request ends at r's (or the client's) timeout, or when ctx
// ends, whichever comes first; a streamed body stays readable until then
// or until [Response.Close].
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("outbound: URL %q: %w", r.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("outbound: URL %q: only absolute http:// and https:// URLs", u.Redacted())
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if err := c.policy.CheckHost(u.Hostname()); err != nil {
		return nil, c.explain(method, u, err)
	}
	timeout := c.cfg.Timeout
	if r.Timeout > 0 {
		timeout = r.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		cancel()
		return nil, c.explain(method, u, err)
	}
	if r.Body == nil {
		req.Body, req.GetBody, req.ContentLength = nil, nil, 0
	}
	for name, values := range r.Header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
		req.Header.Del("Host")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	hc := &http.Client{Transport: c.transport, CheckRedirect: c.checkRedirect(r.MaxRedirects)}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		return nil, c.explain(method, u, err)
	}
	out := &Response{
		Status:  resp.StatusCode,
		Reason:  strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode))),
		Header:  resp.Header,
		URL:     resp.Request.URL.Redacted(),
		body:    resp.Body,
		maxBody: c.cfg.MaxBody,
		cancel:  cancel,
	}
	if r.MaxBody > 0 && r.MaxBody < out.maxBody {
		out.maxBody = r.MaxBody
	}
	if r.Stream {
		return out, nil
	}
	defer out.Close()
	if out.Body, err = out.ReadAll(); err != nil {
		return nil, c.explain(method, u, err)
	}
	return out, nil
}

// checkRedirect caps the redirects and checks each new host against the
// policy before it is dialed.
func (c *Client) checkRedirect(requested int) func(*http.Request, []*http.Request) error {
	limit := c.cfg.MaxRedirects
	if requested != 0 && (requested < limit || limit < 0) {
		limit = requested
	}
	if limit < 0 {
		limit = 0
	}
	return func(req *http.Request, via []*http.Request) error {
		if limit == 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > limit {
			return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, limit)
		}
		return c.policy.CheckHost(req.URL.Hostname())
	}
}

// RequestError is a request that failed. Its cause stays findable with
// errors.As and errors.Is: a [*RefusedError], [ErrTooManyRedirects], a
// [*LimitError], a context's end.
type RequestError struct {
	Method string
	URL    string // without its password
	Err    error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("outbound: %s %s: %v", e.Method, e.URL, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// explain wraps a failed request's error in a [*RequestError], without
// net/http's own wrapping.
func (c *Client) explain(method string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &RequestError{Method: method, URL: u.Redacted(), Err: err}
}

// Read reads from the body of a streamed response; it returns io.EOF at
// the end.
func (r *Response) Read(p []byte) (int, error) {
	if r.body == nil {
		return 0, io.EOF
	}
	n, err := r.body.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("outbound: reading the response body: %w", err)
	}
	return n, err
}

// ReadAll reads the rest of the body, failing with a [*LimitError] past
// the response's cap.
func (r *Response) ReadAll() ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(readerFunc(r.Read), r.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > r.maxBody {
		return nil, &LimitError{Limit: r.maxBody}
	}
	return data, nil
}

// Close releases the body and the request's context. It is idempotent.
func (r *Response) Close() error {
	var err error
	if r.body != nil {
		err = r.body.Close()
		r.body = nil
	}
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	return err
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
