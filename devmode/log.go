package devmode

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

// TracebackKey is the log attribute that holds a Lua traceback, as the host
// and the toolkit's error middleware log it.
const TracebackKey = "traceback"

// NewLogHandler returns a log handler for a developer's terminal: records
// go to next unchanged, except that a record's [TracebackKey] attribute
// leaves its line and follows it on lines of its own, written to w (the
// writer next writes to): the app's frames one per line, the toolkit's
// and Go's counted. next's line and the traceback under it are written
// together, never split by another record.
func NewLogHandler(next slog.Handler, w io.Writer) slog.Handler {
	return &logHandler{next: next, out: &lockedOutput{w: w}}
}

type lockedOutput struct {
	mu sync.Mutex
	w  io.Writer
}

type logHandler struct {
	next slog.Handler
	out  *lockedOutput
}

func (h *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(attrs), out: h.out}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), out: h.out}
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	trace := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == TracebackKey && a.Value.Kind() == slog.KindString {
			trace = a.Value.String()
			return false
		}
		return true
	})
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	if trace == "" {
		return h.next.Handle(ctx, r)
	}
	line := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != TracebackKey {
			line.AddAttrs(a)
		}
		return true
	})
	if err := h.next.Handle(ctx, line); err != nil {
		return err
	}
	_, err := io.WriteString(h.out.w, TerminalTraceback(ParseTraceback(trace)))
	return err
}

// TerminalTraceback renders frames for a terminal, indented under the log
// line they belong to: each frame of the app on a line, then how many
// frames of the toolkit and Go were left out. When no frame is the app's,
// every frame is shown.
func TerminalTraceback(frames []Frame) string {
	shown := AppFrames(frames)
	if len(shown) == 0 {
		shown = frames
	}
	var b strings.Builder
	for _, f := range shown {
		b.WriteString("    at ")
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	if hidden := len(frames) - len(shown); hidden > 0 {
		b.WriteString("    (" + strconv.Itoa(hidden) + " frames of the toolkit and Go not shown)\n")
	}
	return b.String()
}
