package environ

import (
	"strconv"
	"strings"
)

// EscapeError is what [Build] wraps for a malformed percent-escape in the
// path or the mount prefix; its value is the escape, for example "%zz" or
// "%4".
type EscapeError string

// Error returns the message, naming the escape.
func (e EscapeError) Error() string {
	return "environ: malformed percent-escape " + strconv.Quote(string(e))
}

// unescape percent-decodes a path to bytes: each %XX becomes one byte, with
// no '+' handling, no UTF-8 check and no normalisation (RFC 3875 4.1.5;
// PEP 3333 "Unicode Issues"). A '%' not followed by two hex digits is an
// [EscapeError]. When s has no '%', unescape returns s without allocating.
func unescape(s string) (string, error) {
	n := strings.Count(s, "%")
	if n == 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(max(len(s)-2*n, 0)) // negative only for a malformed s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", EscapeError(s[i:min(i+3, len(s))])
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
