// Package devmode is what `lsgi serve --dev` shows a developer: an error
// as a page (HTML for browsers, JSON for API clients) with the app's own
// frames and the source around each, tracebacks over several lines in the
// terminal, the list of mounted apps, and the script that reloads a page
// when its app changes.
//
// It is pure Go and knows nothing of the host or of Lua: the host and the
// toolkit's error middleware describe an error as an [Error] and render it
// here, so that every error page of the project has one look. Nothing here
// decides who may see a page; callers show it to loopback clients only.
package devmode

import (
	"strconv"
	"strings"
)

// Frame is one line of a Lua stack traceback.
type Frame struct {
	// File is the chunk the frame runs in, as Lua names it
	// ("plugins/hello.lua", "lsgi/validator.lua"), "[G]" for a Go
	// function and "(tailcall)" for a call that replaced its frame.
	File string `json:"file,omitempty"`

	// Line is the line the frame is at, 0 when unknown.
	Line int `json:"line,omitempty"`

	// Where says what runs there: "in function 'helper'", "in main chunk".
	Where string `json:"where,omitempty"`

	// App is false for the frames of the toolkit (lsgi.* modules and the
	// Lua stand-ins), of Go functions and of tail calls, which pages and
	// the terminal fold away.
	App bool `json:"app"`
}

// String is the frame as the traceback wrote it.
func (f Frame) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
	}
	b.WriteByte(':')
	if f.Where != "" {
		b.WriteByte(' ')
		b.WriteString(f.Where)
	}
	return b.String()
}

// ParseTraceback reads the frames of a Lua traceback as gopher-lua and
// debug.traceback write it ("stack traceback:" then one tab-indented line
// per frame). Lines it cannot read become frames with only Where set, so
// nothing of the traceback is lost.
func ParseTraceback(tb string) []Frame {
	var out []Frame
	for line := range strings.Lines(tb) {
		line = strings.TrimSpace(line)
		switch {
		case line == "", line == "stack traceback:":
			continue
		case line == "...":
			out = append(out, Frame{Where: "..."}) // gopher-lua cut a long traceback here
			continue
		}
		out = append(out, parseFrame(line))
	}
	return out
}

// parseFrame reads "FILE:LINE: WHERE", "[G]: WHERE" or "(tailcall): ?".
func parseFrame(line string) Frame {
	head, where, ok := strings.Cut(line, ": ")
	if !ok {
		head, where = strings.TrimSuffix(line, ":"), ""
	}
	f := Frame{File: head, Where: where}
	if i := strings.LastIndexByte(head, ':'); i > 0 {
		if n, err := strconv.Atoi(head[i+1:]); err == nil && n > 0 {
			f.File, f.Line = head[:i], n
		}
	}
	if f.Where == "?" {
		f.Where = ""
	}
	f.App = !ToolkitFile(f.File)
	return f
}

// ToolkitFile reports whether a chunk name belongs to the host rather than
// to an app: the toolkit's modules (lsgi/...), the Lua stand-ins
// (shims/...), Go functions ([G]), tail calls and unknown chunks.
func ToolkitFile(file string) bool {
	switch file {
	case "", "[G]", "(tailcall)", "?", "[string]":
		return true
	}
	return strings.HasPrefix(file, "lsgi/") || strings.HasPrefix(file, "shims/")
}

// AppFrames returns the frames of the app itself, in order.
func AppFrames(frames []Frame) []Frame {
	var out []Frame
	for _, f := range frames {
		if f.App {
			out = append(out, f)
		}
	}
	return out
}

// SourceLine is one line of a source excerpt.
type SourceLine struct {
	N    int    // line number, from 1
	Text string // the line, without its newline
	Hot  bool   // the line the excerpt is about
}

// Excerpt returns the lines of src within context lines of line, or nil
// when line is not in src.
func Excerpt(src []byte, line, context int) []SourceLine {
	if src == nil || line < 1 {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if line > len(lines) {
		return nil
	}
	var out []SourceLine
	for n := max(1, line-context); n <= min(len(lines), line+context); n++ {
		out = append(out, SourceLine{N: n, Text: strings.TrimRight(lines[n-1], "\r"), Hot: n == line})
	}
	return out
}
