// Package httpsyntax holds the HTTP rules that LSGI checks on both sides of
// the gateway, each written once: token characters, field values, status
// lines, Content-Length, and the fields only a server may send.
//
// The environ builder uses it for request header names, the Lua bridge for
// what start_response accepts (docs/SPEC.md 6), and the toolkit's
// lsgi.validator asks it through the private module lsgi._native, so that
// a change to a rule is made here and nowhere else.
//
// The package is pure Go, keeps no state and allocates only for error
// messages.
package httpsyntax

import (
	"fmt"
	"strings"
)

// IsTokenChar reports whether c is a tchar (RFC 9110 5.6.2): a letter, a
// digit or one of !#$%&'*+-.^_`|~.
func IsTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// IsToken reports whether s is a token (RFC 9110 5.6.2): one or more
// tchars, as a field name must be.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// IsFieldValue reports whether s may be sent as a field value: no control
// character but HTAB (docs/SPEC.md 6). Bytes 0x80 to 0xFF are allowed.
// net/http would quietly turn CR and LF into spaces; refusing them instead
// keeps a value from injecting a header.
func IsFieldValue(s string) bool {
	return ctlIndex(s) < 0
}

// CheckFieldValue is [IsFieldValue] with an error that names the first
// character refused.
func CheckFieldValue(s string) error {
	if i := ctlIndex(s); i >= 0 {
		return fmt.Errorf("control character %q in the value", s[i])
	}
	return nil
}

// ctlIndex returns the index of the first control character other than
// HTAB in s, or -1.
func ctlIndex(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

// hopByHop lists, in lower case, the fields that describe one connection
// rather than the message (RFC 9110 7.6.1; PEP 3333 "Other HTTP Features";
// wsgiref.util.is_hop_by_hop), plus Proxy-Connection, which some clients
// still send.
var hopByHop = [...]string{
	"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
	"te", "trailer", "trailers", "transfer-encoding", "upgrade",
}

// IsHopByHop reports whether the field name, in any case, is hop-by-hop:
// only the server decides on the connection and the framing, so an app
// must not send it (docs/SPEC.md 6).
func IsHopByHop(name string) bool {
	for _, h := range hopByHop {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// IsReserved reports whether the field name, in any case, is Status: CGI's
// way of setting the status line, which an app sets through
// start_response instead (docs/SPEC.md 6).
func IsReserved(name string) bool {
	return strings.EqualFold(name, "Status")
}

// IsDecimal reports whether s is 1*DIGIT.
func IsDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseContentLength reads a Content-Length value: 1*DIGIT (RFC 9110 8.6),
// at most 18 digits so that it fits an int64.
func ParseContentLength(s string) (int64, error) {
	if !IsDecimal(s) || len(s) > 18 {
		return 0, fmt.Errorf("Content-Length %q is not a decimal number", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n, nil
}

// ParseStatus reads an LSGI status, "NNN Reason" (docs/SPEC.md 6): three
// digits, one space and a reason phrase with no control character but
// HTAB and no surrounding white space. The code is from 200 to 599: 1xx
// are interim responses the server manages itself, and net/http panics on
// codes it cannot send. Every error message starts with "status".
func ParseStatus(s string) (code int, reason string, err error) {
	if len(s) < 5 || s[3] != ' ' || !IsDecimal(s[:3]) {
		return 0, "", fmt.Errorf("status %q is not \"NNN Reason\" (three digits, a space, a reason phrase)", s)
	}
	code = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	if code < 200 || code > 599 {
		return 0, "", fmt.Errorf("status %q: the code must be from 200 to 599", s)
	}
	reason = s[4:]
	if isBlank(reason[0]) || isBlank(reason[len(reason)-1]) {
		return 0, "", fmt.Errorf("status %q: the reason phrase has surrounding whitespace", s)
	}
	if ctlIndex(reason) >= 0 {
		return 0, "", fmt.Errorf("status %q: control character in the reason phrase", s)
	}
	return code, reason, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }
