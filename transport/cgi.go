package transport

// This file is the CGI side: one request from the process environment and
// stdin, the response on stdout (RFC 3875 section 6), with the request
// parsed by net/http/cgi.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"net/url"
	"os"
	"strconv"

	"github.com/lsgi/lsgi/environ"
)

// CGIRoot returns the mount root a handler needs to serve the current CGI
// request, for host.Config.Root: the script's SCRIPT_NAME, escaped.
func CGIRoot() string {
	return (&url.URL{Path: os.Getenv("SCRIPT_NAME")}).EscapedPath()
}

// ServeCGI serves the one request of a CGI invocation with h, writing the
// response to stdout, as net/http/cgi's Serve does with any handler. The
// path is SCRIPT_NAME and PATH_INFO as the CGI host set them, and the
// request's Gateway says SERVER_NAME, SERVER_PORT, run-once and the
// REMOTE_USER, AUTH_TYPE and REMOTE_IDENT the host passed. The writer is a
// [host.ReasonSetter], so an app's own reason phrase goes out. Logs must go
// to stderr: stdout is the response.
//
// An aborted response ends early and ServeCGI returns [host.ErrAborted]; a
// handler panic is returned as a *[PanicError].
func ServeCGI(stdout io.Writer, h http.Handler) error {
	r, err := cgi.Request()
	if err != nil {
		return fmt.Errorf("transport: read the CGI request: %w", err)
	}
	if r.RequestURI == "" {
		// net/http/cgi parses REQUEST_URI into r.URL but keeps no raw copy.
		r.RequestURI = os.Getenv("REQUEST_URI")
		if r.RequestURI == "" {
			r.RequestURI = r.URL.RequestURI()
		}
	}
	// The path is what the CGI host says it is, not a re-parse of
	// REQUEST_URI (which some hosts do not set).
	r.URL.Path = os.Getenv("SCRIPT_NAME") + os.Getenv("PATH_INFO")
	r.URL.RawPath = ""
	if os.Getenv("CONTENT_LENGTH") != "" {
		restoreContentLength(r)
	}
	gw := &environ.Gateway{
		ServerName: os.Getenv("SERVER_NAME"),
		ServerPort: os.Getenv("SERVER_PORT"),
		Vars:       passedVars(os.Getenv),
		RunOnce:    true,
	}
	w := &cgiResponse{out: bufio.NewWriter(stdout), header: http.Header{}}
	served := Catch(h, w, environ.WithGateway(r, gw))
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.out.Flush(); err != nil {
		return errors.Join(served, fmt.Errorf("transport: write the CGI response: %w", err))
	}
	return served
}

// restoreContentLength puts back the Content-Length header of a request that
// carried CONTENT_LENGTH: net/http/cgi and net/http/fcgi keep it only in
// r.ContentLength, and the environ is built from the header.
func restoreContentLength(r *http.Request) {
	if r.ContentLength >= 0 && r.Header.Get("Content-Length") == "" {
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
}

// forwarded are the CGI variables a front server may send that net/http
// does not map onto the request; they reach apps unchanged.
var forwarded = []string{"REMOTE_USER", "AUTH_TYPE", "REMOTE_IDENT"}

// passedVars collects the forwarded variables that get reports as set.
func passedVars(get func(string) string) environ.Vars {
	var vars environ.Vars
	for _, name := range forwarded {
		if v := get(name); v != "" {
			vars = append(vars, environ.Var{Name: name, Value: v})
		}
	}
	return vars
}

// cgiResponse writes a CGI response: a Status line, the headers, a blank
// line, then the body. Unlike net/http/cgi it sends the handler's own
// reason phrase (it is a host.ReasonSetter).
type cgiResponse struct {
	out         *bufio.Writer
	header      http.Header
	wroteHeader bool
	reason      string
}

func (w *cgiResponse) Header() http.Header { return w.header }

// SetReason records the reason phrase for the next WriteHeader.
func (w *cgiResponse) SetReason(reason string) { w.reason = reason }

func (w *cgiResponse) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	reason := w.reason
	if reason == "" {
		reason = http.StatusText(code)
	}
	fmt.Fprintf(w.out, "Status: %d %s\r\n", code, reason)
	// A suppressed header (a nil Content-Type) is skipped by Write.
	if err := w.header.Write(w.out); err != nil {
		return
	}
	w.out.WriteString("\r\n")
}

func (w *cgiResponse) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.out.Write(p)
}

// Flush sends what is buffered, so streaming works through CGI hosts that
// pass output on as it comes.
func (w *cgiResponse) Flush() { _ = w.out.Flush() }
