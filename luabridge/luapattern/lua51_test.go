package luapattern_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsgi/lsgi/luabridge/luapattern"
)

// This file runs string.find, string.match, string.gmatch and string.gsub
// calls both through luapattern (with the argument handling the Lua bindings
// use) and through the reference interpreter lua5.1, in one common text
// form, so that the two can be compared.

// call is one call of a string function: op is "find", "match", "gmatch" or
// "gsub"; args are the arguments after the subject and the pattern (ints,
// bools, strings or nil).
type call struct {
	op   string
	s, p string
	args []any
}

// luaPrelude defines, in the reference interpreter, one function per op that
// prints the call's results in the common text form.
const luaPrelude = `
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function enc(...)
  local t = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v == nil then t[i] = "nil"
    elseif type(v) == "number" then t[i] = "n" .. string.format("%d", v)
    else t[i] = "s" .. hex(v) end
  end
  return table.concat(t, " ")
end
local function pack(ok, ...)
  if ok then return enc(...) end
  return "E:" .. tostring((...))
end
local function out(s) io.write(s, "\n") end
function find(...) out(pack(pcall(string.find, ...))) end
function match(...) out(pack(pcall(string.match, ...))) end
function gsub(...) out(pack(pcall(string.gsub, ...))) end
function gmatch(s, p)
  local it = string.gmatch(s, p)
  local t = {}
  for i = 1, 100 do
    local r = {pcall(it)}
    if not r[1] then t[#t + 1] = "E:" .. tostring(r[2]); break end
    if r[2] == nil then t[#t + 1] = "end"; break end
    t[#t + 1] = enc(unpack(r, 2))
  end
  out(table.concat(t, " | "))
end
`

// luaQuote writes s as a Lua 5.1 string literal.
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 32 && c < 127 && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaLine is the line of Lua that makes the call.
func (c call) luaLine() string {
	parts := []string{luaQuote(c.s), luaQuote(c.p)}
	for _, a := range c.args {
		switch a := a.(type) {
		case nil:
			parts = append(parts, "nil")
		case int:
			parts = append(parts, strconv.Itoa(a))
		case bool:
			parts = append(parts, strconv.FormatBool(a))
		case string:
			parts = append(parts, luaQuote(a))
		default:
			panic(fmt.Sprintf("unsupported argument %#v", a))
		}
	}
	return c.op + "(" + strings.Join(parts, ", ") + ")"
}

// runLua51 runs the calls in lua5.1 and returns one result line per call.
// It skips the test when lua5.1 is not installed.
func runLua51(t *testing.T, calls []call) []string {
	t.Helper()
	path, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed: apt-get install lua5.1")
	}
	var script strings.Builder
	script.WriteString(luaPrelude)
	for _, c := range calls {
		script.WriteString(c.luaLine())
		script.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-")
	cmd.Stdin = strings.NewReader(script.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lua5.1: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(calls) {
		t.Fatalf("lua5.1 printed %d lines for %d calls", len(lines), len(calls))
	}
	return lines
}

// value is one result value in the common text form.
func encString(s string) string { return "s" + hex.EncodeToString([]byte(s)) }

func encNumber(n int) string { return "n" + strconv.Itoa(n) }

// errText renders an error as the reference interpreter's pcall shows it.
func errText(err error) string {
	if e, ok := err.(*luapattern.Error); ok {
		return "E:" + e.Msg
	}
	return "E:" + err.Error()
}

// optInt reads an optional integer argument.
func optInt(args []any, i, def int) int {
	if i < len(args) {
		if v, ok := args[i].(int); ok {
			return v
		}
	}
	return def
}

// truthy reads an optional boolean argument as Lua tests it.
func truthy(args []any, i int) bool {
	if i >= len(args) {
		return false
	}
	switch v := args[i].(type) {
	case nil:
		return false
	case bool:
		return v
	}
	return true
}

// runGo makes the call through luapattern, with budget steps, and returns its
// result in the common text form.
func runGo(c call, budget int) string {
	var m luapattern.Matcher
	m.Reset(context.Background(), budget)
	switch c.op {
	case "find", "match":
		init := luapattern.StartIndex(optInt(c.args, 0, 1), len(c.s))
		if c.op == "find" && (truthy(c.args, 1) || luapattern.IsPlain(c.p)) {
			i := strings.Index(c.s[init:], c.p)
			if i < 0 {
				return "nil"
			}
			return encNumber(init+i+1) + " " + encNumber(init+i+len(c.p))
		}
		start, end, err := m.Find(c.s, c.p, init)
		if err != nil {
			return errText(err)
		}
		if start < 0 {
			return "nil"
		}
		if c.op == "find" {
			vals := []string{encNumber(start + 1), encNumber(end)}
			caps, err := captures(&m, c.s, start, end, false)
			if err != nil {
				return errText(err)
			}
			return strings.Join(append(vals, caps...), " ")
		}
		caps, err := captures(&m, c.s, start, end, true)
		if err != nil {
			return errText(err)
		}
		return strings.Join(caps, " ")
	case "gmatch":
		return runGmatch(&m, c, budget)
	case "gsub":
		tmpl, _ := c.args[0].(string)
		max := optInt(c.args, 1, len(c.s)+1)
		out, n, err := m.Gsub(c.s, c.p, max, 0, func(dst []byte, start, end int) ([]byte, error) {
			return m.Expand(dst, tmpl, start, end, 0)
		})
		if err != nil {
			return errText(err)
		}
		return encString(out) + " " + encNumber(n)
	}
	panic("unknown op " + c.op)
}

// runGmatch iterates as a generic for over string.gmatch does, at most 100
// times, each call of the iterator with a budget of its own.
func runGmatch(m *luapattern.Matcher, c call, budget int) string {
	var out []string
	pos := 0
	for range 100 {
		m.Reset(context.Background(), budget)
		start, end, err := -1, -1, error(nil)
		if pos <= len(c.s) {
			start, end, err = m.Gmatch(c.s, c.p, pos)
		}
		if err != nil {
			out = append(out, errText(err))
			break
		}
		if start < 0 {
			out = append(out, "end")
			break
		}
		pos = end
		if end == start {
			pos++
		}
		caps, err := captures(m, c.s, start, end, true)
		if err != nil {
			out = append(out, errText(err))
			break
		}
		out = append(out, strings.Join(caps, " "))
	}
	return strings.Join(out, " | ")
}

// captures renders the captures of the last match; whole says that a match
// without captures gives the whole match (as match, gmatch and gsub do, and
// find does not).
func captures(m *luapattern.Matcher, s string, start, end int, whole bool) ([]string, error) {
	n := m.Captures()
	if n == 0 && whole {
		n = 1
	}
	vals := make([]string, 0, n)
	for i := range n {
		c, err := m.Capture(i, start, end)
		if err != nil {
			return nil, err
		}
		if c.Position {
			vals = append(vals, encNumber(c.Start+1))
		} else {
			vals = append(vals, encString(s[c.Start:c.End]))
		}
	}
	return vals, nil
}
