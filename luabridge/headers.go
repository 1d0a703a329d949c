package luabridge

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// headerField is one validated response header from start_response.
type headerField struct{ name, value string }

// parseStatus checks an LSGI status ("NNN Reason") and returns its code and
// reason. Codes outside 200–599 are refused: 1xx are interim responses the
// host manages itself, and net/http panics on codes it cannot send
// (docs/SPEC.md, rule book D-04).
func parseStatus(v lua.LValue) (int, string, error) {
	s, ok := v.(lua.LString)
	if !ok {
		return 0, "", fmt.Errorf("status must be a string like \"200 OK\", got %s", describe(v))
	}
	str := string(s)
	if len(str) < 5 || str[3] != ' ' || !isDigit(str[0]) || !isDigit(str[1]) || !isDigit(str[2]) {
		return 0, "", fmt.Errorf("status %q is not \"NNN Reason\" (three digits, a space, a reason phrase)", str)
	}
	code := int(str[0]-'0')*100 + int(str[1]-'0')*10 + int(str[2]-'0')
	if code < 200 || code > 599 {
		return 0, "", fmt.Errorf("status %q: the code must be from 200 to 599", str)
	}
	reason := str[4:]
	if reason[0] == ' ' || reason[0] == '\t' || reason[len(reason)-1] == ' ' || reason[len(reason)-1] == '\t' {
		return 0, "", fmt.Errorf("status %q: the reason phrase has surrounding whitespace", str)
	}
	for i := 0; i < len(reason); i++ {
		if c := reason[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return 0, "", fmt.Errorf("status %q: control character in the reason phrase", str)
		}
	}
	return code, reason, nil
}

// hopByHop lists header names an app must not send (lower case): they
// describe the connection, which only the server controls (PEP 3333
// "Other HTTP Features"; wsgiref.util.is_hop_by_hop). Status is refused
// because it is CGI's way of setting the status line.
var hopByHop = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"proxy-connection":    true,
	"te":                  true,
	"trailer":             true,
	"trailers":            true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"status":              true,
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
			cl, err := parseContentLength(string(value))
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

// checkHeaderName accepts an RFC 9110 token that is not a hop-by-hop name.
func checkHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header name %q is not a valid HTTP token", name)
		}
	}
	if hopByHop[strings.ToLower(name)] {
		return fmt.Errorf("header %q is hop-by-hop or reserved: only the server may send it", name)
	}
	return nil
}

// checkHeaderValue refuses control characters other than HTAB. net/http
// would silently turn CR and LF into spaces; an app that sends them has a
// bug (or an injection), so it gets an error instead.
func checkHeaderValue(name, value string) error {
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("header %q: control character %q in the value", name, c)
		}
	}
	return nil
}

// parseContentLength accepts 1*DIGIT, as RFC 9110 section 8.6 requires.
func parseContentLength(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("Content-Length %q is not a decimal number", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, fmt.Errorf("Content-Length %q is not a decimal number", s)
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
