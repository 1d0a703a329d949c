package luabridge

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/lsgi/lsgi/httpsyntax"
)

// headerField is one validated response header from start_response.
type headerField struct{ name, value string }

// parseStatus checks an LSGI status ("NNN Reason") and returns its code and
// reason (docs/SPEC.md 6).
func parseStatus(v lua.LValue) (int, string, error) {
	s, ok := v.(lua.LString)
	if !ok {
		return 0, "", fmt.Errorf("status must be a string like \"200 OK\", got %s", describe(v))
	}
	return httpsyntax.ParseStatus(string(s))
}

// parseHeaders checks a start_response header list, an array of
// {name, value} string pairs, and appends the fields to dst. Values must be
// real strings: numbers are refused rather than coerced. It also returns
// the declared Content-Length (-1 when none) and whether Content-Type was
// given.
func parseHeaders(dst []headerField, v lua.LValue) ([]headerField, int64, bool, error) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return dst, -1, false, fmt.Errorf("headers must be an array of {name, value} pairs, got %s", describe(v))
	}
	contentLength := int64(-1)
	hasType := false
	n := 0
	for i := 1; ; i++ {
		item := t.RawGetInt(i)
		if item == lua.LNil {
			break
		}
		n = i
		pair, ok := item.(*lua.LTable)
		if !ok {
			return dst, -1, false, fmt.Errorf("headers[%d] must be a {name, value} pair, got %s", i, describe(item))
		}
		name, nok := pair.RawGetInt(1).(lua.LString)
		value, vok := pair.RawGetInt(2).(lua.LString)
		if !nok || !vok || pair.RawGetInt(3) != lua.LNil {
			return dst, -1, false, fmt.Errorf("headers[%d] must be a pair of two strings {name, value}, got {%s, %s}",
				i, describe(pair.RawGetInt(1)), describe(pair.RawGetInt(2)))
		}
		if err := checkHeaderName(string(name)); err != nil {
			return dst, -1, false, fmt.Errorf("headers[%d]: %w", i, err)
		}
		if err := checkHeaderValue(string(name), string(value)); err != nil {
			return dst, -1, false, fmt.Errorf("headers[%d]: %w", i, err)
		}
		switch {
		case strings.EqualFold(string(name), "Content-Length"):
			cl, err := httpsyntax.ParseContentLength(string(value))
			if err != nil {
				return dst, -1, false, fmt.Errorf("headers[%d]: %w", i, err)
			}
			if contentLength >= 0 && cl != contentLength {
				return dst, -1, false, fmt.Errorf("headers[%d]: two different Content-Length values", i)
			}
			contentLength = cl
		case strings.EqualFold(string(name), "Content-Type"):
			hasType = true
		}
		dst = append(dst, headerField{string(name), string(value)})
	}
	// Every key must be one of the array entries: a map-style table such as
	// {["Content-Type"] = "text/plain"} is a mistake, not an empty list.
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if idx, ok := k.(lua.LNumber); !ok || float64(idx) != float64(int(idx)) || int(idx) < 1 || int(idx) > n {
			return dst, -1, false, fmt.Errorf("headers must be an array of {name, value} pairs; found the key %s (use {{\"Name\", \"value\"}, ...})", describeKey(k))
		}
	}
	return dst, contentLength, hasType, nil
}

func describeKey(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok {
		return strconv.Quote(string(s))
	}
	return k.String()
}

// checkHeaderName accepts an HTTP token that names no field only the server
// may send.
func checkHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("empty header name")
	}
	if !httpsyntax.IsToken(name) {
		return fmt.Errorf("header name %q is not a valid HTTP token", name)
	}
	if httpsyntax.IsHopByHop(name) || httpsyntax.IsReserved(name) {
		return fmt.Errorf("header %q is hop-by-hop or reserved: only the server may send it", name)
	}
	return nil
}

// checkHeaderValue refuses control characters other than HTAB: an app that
// sends them has a bug (or an injection), so it gets an error rather than a
// header net/http would quietly rewrite.
func checkHeaderValue(name, value string) error {
	if err := httpsyntax.CheckFieldValue(value); err != nil {
		return fmt.Errorf("header %q: %w", name, err)
	}
	return nil
}
