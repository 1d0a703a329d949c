// This file is the access log's format language, gunicorn's
// access_log_format: Python %-style atoms such as %(h)s and %({header}i)s,
// compiled once so that a line is built by appending, with every value
// escaped so that no request can forge a line.

package host

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lsgi/lsgi/environ"
)

// Access log format presets (Config.AccessLogFormat).
const (
	// AccessLogCommon is the Common Log Format.
	AccessLogCommon = `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s`
	// AccessLogCombined is the Combined Log Format, gunicorn's default
	// access_log_format.
	AccessLogCombined = AccessLogCommon + ` "%(f)s" "%(a)s"`
)

// CheckAccessLogFormat reports whether format is a valid
// Config.AccessLogFormat, so that a program can refuse a bad one before it
// builds a handler.
func CheckAccessLogFormat(format string) error {
	_, err := parseAccessFormat(format)
	return err
}

// accessFormat is a compiled access log format: literal text and atoms.
type accessFormat []accessAtom

// accessAtom is one piece of a format: literal text (kind 0), a one-letter
// atom, or a named one ('i', 'o', 'e') with its name.
type accessAtom struct {
	kind byte
	text string // the literal, or the header or variable name
	// envName is the environ variable that holds request header text
	// ("HTTP_USER_AGENT"), "" when the header is not kept there.
	envName string
}

// parseAccessFormat compiles a format: "" is the default line (nil),
// "common" and "combined" the presets, anything else gunicorn's atoms.
func parseAccessFormat(format string) (accessFormat, error) {
	switch format {
	case "":
		return nil, nil
	case "common":
		format = AccessLogCommon
	case "combined":
		format = AccessLogCombined
	}
	var out accessFormat
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, accessAtom{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		rest := format[i+1:]
		if strings.HasPrefix(rest, "%") {
			lit.WriteByte('%')
			i++
			continue
		}
		atom, n, err := parseAtom(rest)
		if err != nil {
			return nil, fmt.Errorf("host: access log format %q at byte %d: %w", format, i, err)
		}
		flush()
		out = append(out, atom)
		i += n
	}
	flush()
	return out, nil
}

// parseAtom reads "(NAME)s" at the start of s and returns the atom and the
// bytes it took.
func parseAtom(s string) (accessAtom, int, error) {
	end := strings.Index(s, ")s")
	if !strings.HasPrefix(s, "(") || end < 0 {
		return accessAtom{}, 0, fmt.Errorf("want %%(NAME)s or %%%%")
	}
	name := s[1:end]
	n := end + 2
	if len(name) == 1 && strings.IndexByte("hlutrmUqHsBbfaTMDLp", name[0]) >= 0 {
		return accessAtom{kind: name[0]}, n, nil
	}
	if len(name) > 3 && name[0] == '{' && name[len(name)-2] == '}' {
		key, kind := name[1:len(name)-2], name[len(name)-1]
		switch kind {
		case 'i':
			return accessAtom{kind: 'i', text: key, envName: headerVar(key)}, n, nil
		case 'o':
			return accessAtom{kind: 'o', text: key}, n, nil
		case 'e':
			return accessAtom{kind: 'e', text: key}, n, nil
		}
	}
	return accessAtom{}, 0, fmt.Errorf("unknown atom %q (the atoms are gunicorn's: h l u t r m U q H s B b f a T M D L p {header}i {header}o {variable}e)", name)
}

// headerVar is the environ variable that holds a request header's text,
// or "" for a header the environ does not keep as such (a name with '_',
// Proxy: docs/SPEC.md 9.3).
func headerVar(name string) string {
	upper := strings.ToUpper(name)
	switch {
	case strings.ContainsAny(name, "_ "), upper == "PROXY", upper == "TRANSFER-ENCODING":
		return ""
	case upper == "CONTENT-TYPE", upper == "CONTENT-LENGTH":
		return strings.ReplaceAll(upper, "-", "_")
	}
	return "HTTP_" + strings.ReplaceAll(upper, "-", "_")
}

// append appends the line of one request, without its newline.
func (f accessFormat) append(b []byte, x *exchange, r *Request, status int, start time.Time, took time.Duration) []byte {
	for i := range f {
		a := &f[i]
		switch a.kind {
		case 0:
			b = append(b, a.text...)
		case 'h':
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			b = appendField(b, host)
		case 'l':
			b = append(b, '-')
		case 'u':
			b = appendField(b, remoteUser(x.vars, r))
		case 't':
			b = append(b, '[')
			b = start.AppendFormat(b, clfTime)
			b = append(b, ']')
		case 'r':
			b = appendPrintable(b, r.Method)
			b = append(b, ' ')
			b = appendPrintable(b, r.Target)
			b = append(b, ' ')
			b = appendPrintable(b, r.Proto)
		case 'm':
			b = appendField(b, r.Method)
		case 'U':
			b = appendField(b, r.Path)
		case 'q':
			b = appendPrintable(b, r.Query)
		case 'H':
			b = appendField(b, r.Proto)
		case 's':
			b = strconv.AppendInt(b, int64(status), 10)
		case 'B':
			b = strconv.AppendInt(b, x.resp.written, 10)
		case 'b':
			if x.resp.written == 0 {
				b = append(b, '-')
			} else {
				b = strconv.AppendInt(b, x.resp.written, 10)
			}
		case 'f':
			b = appendField(b, requestHeader(x.vars, r, "Referer", "HTTP_REFERER"))
		case 'a':
			b = appendField(b, requestHeader(x.vars, r, "User-Agent", "HTTP_USER_AGENT"))
		case 'T':
			b = strconv.AppendInt(b, int64(took/time.Second), 10)
		case 'M':
			b = strconv.AppendInt(b, int64(took/time.Millisecond), 10)
		case 'D':
			b = strconv.AppendInt(b, int64(took/time.Microsecond), 10)
		case 'L':
			b = strconv.AppendFloat(b, took.Seconds(), 'f', 6, 64)
		case 'p':
			b = append(b, '<')
			b = strconv.AppendInt(b, int64(pid), 10)
			b = append(b, '>')
		case 'i':
			b = appendField(b, requestHeader(x.vars, r, a.text, a.envName))
		case 'o':
			b = appendField(b, responseHeader(&x.resp, a.text))
		case 'e':
			v, _ := x.vars.Get(a.text)
			b = appendField(b, v)
		}
	}
	return b
}

var pid = os.Getpid()

// appendField appends a value, "-" when it is empty, escaped.
func appendField(b []byte, v string) []byte {
	if v == "" {
		return append(b, '-')
	}
	return appendPrintable(b, v)
}

// requestHeader returns a request header's value: from the environ when
// the request has one and keeps the header there (envName), else from the
// request's fields, repeated ones joined with ", ".
func requestHeader(vars environ.Vars, r *Request, name, envName string) string {
	if len(vars) > 0 && envName != "" {
		v, _ := vars.Get(envName)
		return v
	}
	if r.Header == nil {
		return ""
	}
	f := &fieldFinder{name: name}
	r.Header.VisitFields(f)
	return f.value
}

// fieldFinder collects the value of one header field.
type fieldFinder struct{ name, value string }

func (f *fieldFinder) Field(name, value string) {
	if !strings.EqualFold(name, f.name) {
		return
	}
	if f.value != "" {
		value = f.value + ", " + value
	}
	f.value = value
}

// responseHeader returns a response header's value: the id for
// X-Request-Id, else the first field of that name the response carried.
func responseHeader(resp *response, name string) string {
	if strings.EqualFold(name, RequestIDHeader) {
		return resp.id
	}
	if resp.status == 0 {
		return "" // nothing went out
	}
	for _, f := range resp.fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// remoteUser is the user of the request: REMOTE_USER when a front server
// set it, else the user name of a Basic Authorization (as gunicorn's %(u)s).
func remoteUser(vars environ.Vars, r *Request) string {
	if u, ok := vars.Get("REMOTE_USER"); ok {
		return u
	}
	auth := requestHeader(vars, r, "Authorization", "HTTP_AUTHORIZATION")
	scheme, cred, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return ""
	}
	user, _, _ := strings.Cut(string(raw), ":")
	return user
}
