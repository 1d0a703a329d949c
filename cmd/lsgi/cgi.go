package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// runCGI serves one request as a CGI program: the request comes from the
// environment and stdin, the response goes to stdout, and every log line to
// stderr.
func runCGI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lsgi cgi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trust := fs.Bool("trust", false, "open the whole Lua standard library (io, os, debug) to the app")
	timeout := fs.Duration("timeout", 0, "deadline for the request (default 30s)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lsgi cgi [flags] FILE\n\nRun the LSGI app in FILE for the one request of a CGI invocation.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	// A CGI host puts stderr in its error log: only say what needs saying.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := host.NewApp(host.App{File: fs.Arg(0)}, host.Config{
		Root:    transport.CGIRoot(),
		Trust:   *trust,
		Timeout: *timeout,
		Logger:  logger,
	})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer h.Close()
	if err := transport.ServeCGI(stdout, h); err != nil {
		logger.Error("cgi", "err", err)
		return 1
	}
	return 0
}
