package host

// This file is the CGI side of the host: one request from the process
// environment and stdin, the response on stdout (RFC 3875 section 6), with
// the request parsed by net/http/cgi.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"strconv"

	"github.com/lsgi/lsgi/environ"
)

// ErrAborted reports a response cut short by an app error after its
// headers were sent.
var ErrAborted = errors.New("host: response aborted after an app error")

// CGIRoot returns the Root a handler needs to serve the current CGI
// request: the script's SCRIPT_NAME, escaped.
func CGIRoot() string {
	return escapePath(os.Getenv("SCRIPT_NAME"))
}

// ServeCGI serves the one request of a CGI invocation with h, which should
// have Root set to [CGIRoot], writing the response to stdout. SCRIPT_NAME
// and PATH_INFO come from the environment as the CGI host set them, the
// app's reason phrase goes out as given, and lsgi.run_once is true. Logs
// must go to stderr: stdout is the response.
func ServeCGI(h *Handler, stdout io.Writer) error {
	r, err := cgi.Request()
	if err != nil {
		return fmt.Errorf("host: read the CGI request: %w", err)
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
	adaptBodyLength(r)
	gw := h.gateway
	gw.ServerName = os.Getenv("SERVER_NAME")
	gw.ServerPort = os.Getenv("SERVER_PORT")
	t := &transport{gateway: &gw, runOnce: true}
	for _, name := range passedVars {
		if v := os.Getenv(name); v != "" {
			t.extra = append(t.extra, environ.Var{Name: name, Value: v})
		}
	}

	w := &cgiResponse{out: bufio.NewWriter(stdout), header: http.Header{}}
	aborted := false
	func() {
		defer func() {
			if v := recover(); v != nil {
				aborted = true
				if v != http.ErrAbortHandler {
					h.log.Error("panic while serving", "panic", v)
				}
			}
		}()
		h.ServeHTTP(w, withTransport(r, t))
	}()
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.out.Flush(); err != nil {
		return fmt.Errorf("host: write the CGI response: %w", err)
	}
	if aborted {
		return ErrAborted
	}
	return nil
}

// adaptBodyLength restores the Content-Length header that a CGI request
// carries as CONTENT_LENGTH: net/http/cgi keeps it only in r.ContentLength,
// and environ reads the header.
func adaptBodyLength(r *http.Request) {
	if os.Getenv("CONTENT_LENGTH") != "" && r.ContentLength >= 0 && r.Header.Get("Content-Length") == "" {
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
}

// cgiResponse writes a CGI response: a Status line, the headers, a blank
// line, then the body. Unlike net/http/cgi it sends the app's own reason
// phrase.
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
