package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// headerFlags collects repeated -H 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// callFlags are the flags and arguments of lsgi call.
type callFlags struct {
	method, body, file, target string
	trust                      bool
	headers                    headerFlags
	timeout                    time.Duration
}

// parseCall reads the arguments of lsgi call; it returns the exit code when
// they are wrong.
func parseCall(args []string, stderr io.Writer) (*callFlags, int, bool) {
	c := &callFlags{target: "/"}
	fs := flag.NewFlagSet("lsgi call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.method, "X", "GET", "request `method`")
	fs.StringVar(&c.body, "d", "", "request `body`")
	fs.BoolVar(&c.trust, "trust", false, "open the whole Lua standard library (io, os, debug) to the app")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "deadline of the request; an app past it is interrupted (504)")
	fs.Var(&c.headers, "H", "request header `'Name: value'` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lsgi call [flags] FILE [PATH]\n\nRun the LSGI app in FILE once, in process, for PATH (default /), and print the response.\n\nflags:\n")
		fs.PrintDefaults()
	}
	// Flags may come before or after FILE and PATH, as in curl.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, 2, false
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) < 1 || len(positional) > 2 {
		fs.Usage()
		return nil, 2, false
	}
	c.file = positional[0]
	if len(positional) == 2 {
		c.target = positional[1]
	}
	if !strings.HasPrefix(c.target, "/") {
		c.target = "/" + c.target
	}
	return c, 0, true
}

// request builds the request the flags describe, as a client would send it.
func (c *callFlags) request() (*http.Request, error) {
	req := httptest.NewRequest(strings.ToUpper(c.method), c.target, strings.NewReader(c.body))
	if c.body != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(c.body)))
	}
	for _, hv := range c.headers {
		name, value, ok := strings.Cut(hv, ":")
		if !ok {
			return nil, fmt.Errorf("-H %q: want 'Name: value'", hv)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Host") {
			req.Host = strings.TrimSpace(value)
			continue
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req, nil
}

// call runs an app once in process, with no socket, and prints the status
// line, the headers and the body: a test client for app authors.
func call(args []string, stdout, stderr io.Writer) int {
	c, code, ok := parseCall(args, stderr)
	if !ok {
		return code
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := host.NewApp(host.App{File: c.file}, host.Config{Trust: c.trust, Timeout: c.timeout, Logger: logger})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer h.Close()
	if err := h.Mounts()["/"]; err != nil {
		fmt.Fprintf(stderr, "lsgi call: %v\n", err)
		return 1
	}
	req, err := c.request()
	if err != nil {
		fmt.Fprintf(stderr, "lsgi call: %v\n", err)
		return 2
	}
	rec := httptest.NewRecorder()
	err = transport.Catch(h, rec, req)
	printResponse(stdout, rec)
	switch {
	case errors.Is(err, host.ErrAborted):
		fmt.Fprintln(stderr, "lsgi call: the response was aborted by an app error after its headers were sent")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "lsgi call: %v\n", err)
		return 1
	}
	return 0
}

// printResponse prints a recorded response: the status line, the headers
// sorted by name, an empty line and the body.
func printResponse(w io.Writer, rec *httptest.ResponseRecorder) {
	res := rec.Result()
	fmt.Fprintf(w, "%s %s\n", res.Proto, res.Status)
	names := make([]string, 0, len(res.Header))
	for name := range res.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range res.Header[name] {
			fmt.Fprintf(w, "%s: %s\n", name, v)
		}
	}
	fmt.Fprintln(w)
	w.Write(rec.Body.Bytes())
}
