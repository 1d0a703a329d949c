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
//
// names remembers the names that passed, so that the names an app sends
// with every response are checked once per State.
func parseHeaders(dst []headerField, v lua.LValue, names nameCache) ([]headerField, int64, bool, error) {
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
		kind, err := names.kind(string(name))
		if err != nil {
			return dst, -1, false, fmt.Errorf("headers[%d]: %w", i, err)
		}
		if err := checkHeaderValue(string(name), string(value)); err != nil {
			return dst, -1, false, fmt.Errorf("headers[%d]: %w", i, err)
		}
		switch kind {
		case fieldContentLength:
			cl, err := httpsyntax.ParseContentLength(string(value))
			if err != nil {
				return dst, -1, false, fmt.Errorf("headers[%d]: %w", i, err)
			}
			if contentLength >= 0 && cl != contentLength {
				return dst, -1, false, fmt.Errorf("headers[%d]: two different Content-Length values", i)
			}
			contentLength = cl
		case fieldContentType:
			hasType = true
		}
		dst = append(dst, headerField{string(name), string(value)})
	}
	// Every key must be one of the array entries: a map-style table such as
	// {["Content-Type"] = "text/plain"} is a mistake, not an empty list.
	if onlyArray(t, n) {
		return dst, contentLength, hasType, nil
	}
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if idx, ok := k.(lua.LNumber); !ok || float64(idx) != float64(int(idx)) || int(idx) < 1 || int(idx) > n {
			return dst, -1, false, fmt.Errorf("headers must be an array of {name, value} pairs; found the key %s (use {{\"Name\", \"value\"}, ...})", describeKey(k))
		}
	}
	return dst, contentLength, hasType, nil
}

// onlyArray reports, without walking t, that its only keys are 1 to n,
// when its layout says so; false means walk it.
func onlyArray(t *lua.LTable, n int) bool {
	if !fastTables {
		return false
	}
	l := layoutOf(t)
	return len(l.dict) == 0 && len(l.strdict) == 0 && lastNonNil(l.array) == n
}

// lastNonNil returns the length of a with its trailing nils cut.
func lastNonNil(a []lua.LValue) int {
	n := len(a)
	for n > 0 && a[n-1] == lua.LNil {
		n--
	}
	return n
}

// fieldKind is what a response header name is to the bridge.
type fieldKind uint8

const (
	fieldOther fieldKind = iota
	fieldContentLength
	fieldContentType
)

// nameCache holds the header names a State has checked already, with
// their kind, up to maxNameCache of them.
type nameCache map[string]fieldKind

const maxNameCache = 64

// kind checks name (checkHeaderName) unless it passed before, and returns
// its kind.
func (c nameCache) kind(name string) (fieldKind, error) {
	if k, ok := c[name]; ok {
		return k, nil
	}
	if err := checkHeaderName(name); err != nil {
		return 0, err
	}
	k := fieldOther
	switch {
	case strings.EqualFold(name, "Content-Length"):
		k = fieldContentLength
	case strings.EqualFold(name, "Content-Type"):
		k = fieldContentType
	}
	if c != nil && len(c) < maxNameCache {
		c[name] = k
	}
	return k, nil
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
