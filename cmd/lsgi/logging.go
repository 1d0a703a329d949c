package main

// This file sets up lsgi serve's log: the level and the format of its
// records, and the access log's format.

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/lsgi/lsgi/host"
)

// logFlags are the flags that shape the log of lsgi serve.
type logFlags struct {
	level        string
	format       string
	accessFormat string
}

func addLogFlags(fs *flag.FlagSet) *logFlags {
	l := &logFlags{}
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log record format: text (key=value) or json (one JSON object a line)")
	fs.StringVar(&l.accessFormat, "access-log-format", "", "access log `format`: common, combined, or gunicorn's atoms, as in '%(h)s %(t)s \"%(r)s\" %(s)s %(D)s' (docs/http.md); default: the common log format and the duration in seconds")
	return l
}

// logSetup is the checked form of the log flags.
type logSetup struct {
	level slog.Level
	json  bool
	dev   bool // --dev: tracebacks over several lines in the text format
}

func (l *logFlags) setup() (logSetup, error) {
	var s logSetup
	if err := s.level.UnmarshalText([]byte(l.level)); err != nil {
		return s, fmt.Errorf("-log-level: %w", err)
	}
	switch l.format {
	case "text":
	case "json":
		s.json = true
	default:
		return s, fmt.Errorf("-log-format %q: want text or json", l.format)
	}
	if err := host.CheckAccessLogFormat(l.accessFormat); err != nil {
		return s, fmt.Errorf("-access-log-format: %w", err)
	}
	return s, nil
}

// newLogger returns the logger that writes the process's records to w. It
// is the one place where the record handler is made: a mode that needs
// another rendering wraps the handler here.
func (s logSetup) newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.level}
	if s.json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	logger := slog.New(slog.NewTextHandler(w, opts))
	if s.dev {
		// Tracebacks over several lines for a person reading the terminal;
		// JSON records stay one per line for machines.
		logger = devLogger(logger, w)
	}
	return logger
}
