package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"

	"github.com/lsgi/lsgi/host"
)

// headerFlags collects repeated -H 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// call runs an app once in process, with no socket, and prints the status
// line, the headers and the body: a test client for app authors.
func call(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lsgi call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	method := fs.String("X", "GET", "request `method`")
	body := fs.String("d", "", "request `body`")
	trust := fs.Bool("trust", false, "open the whole Lua standard library (io, os, debug) to the app")
	var headers headerFlags
	fs.Var(&headers, "H", "request header `'Name: value'` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lsgi call [flags] FILE [PATH]\n\nRun the LSGI app in FILE once, in process, for PATH (default /), and print the response.\n\nflags:\n")
		fs.PrintDefaults()
	}
	// Flags may come before or after FILE and PATH, as in curl.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) < 1 || len(positional) > 2 {
		fs.Usage()
		return 2
	}
	file, target := positional[0], "/"
	if len(positional) == 2 {
		target = positional[1]
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := host.New(host.Config{
		NoPlugins: true,
		Apps:      []host.App{{Mount: "/", File: file}},
		Trust:     *trust,
		States:    1,
		Logger:    logger,
	})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer h.Close()
	if err := h.Mounts()["/"]; err != nil {
		fmt.Fprintf(stderr, "lsgi call: %v\n", err)
		return 1
	}

	req := httptest.NewRequest(strings.ToUpper(*method), target, strings.NewReader(*body))
	if *body != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(*body)))
	}
	for _, hv := range headers {
		name, value, ok := strings.Cut(hv, ":")
		if !ok {
			fmt.Fprintf(stderr, "lsgi call: -H %q: want 'Name: value'\n", hv)
			return 2
		}
		if strings.EqualFold(strings.TrimSpace(name), "Host") {
			req.Host = strings.TrimSpace(value)
			continue
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	rec := httptest.NewRecorder()
	aborted := host.ServeAborting(h, rec, req)
	res := rec.Result()
	fmt.Fprintf(stdout, "%s %s\n", res.Proto, res.Status)
	names := make([]string, 0, len(res.Header))
	for name := range res.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range res.Header[name] {
			fmt.Fprintf(stdout, "%s: %s\n", name, v)
		}
	}
	fmt.Fprintln(stdout)
	stdout.Write(rec.Body.Bytes())
	if aborted {
		fmt.Fprintln(stderr, "lsgi call: the response was aborted by an app error after its headers were sent")
		return 1
	}
	return 0
}
