package fast

// This file describes a request parsed by fasthttp.RequestHeader as a
// host.Request: every string the environ keeps is a piece of one string
// made per request, and the header fields are visited straight from the
// raw header block.

import (
	"bytes"
	"strings"

	"github.com/lsgi/lsgi/environ"
	"github.com/valyala/fasthttp"
)

// Methods and protocols most requests use, so that they cost no string.
var (
	knownMethods = [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}
	knownProtos  = [...]string{"HTTP/1.1", "HTTP/1.0"}
)

func internString(b []byte, known []string) (string, bool) {
	for _, k := range known {
		if string(b) == k {
			return k, true
		}
	}
	return "", false
}

// fieldSpan is a header field as offsets in the request's string.
type fieldSpan struct {
	name, nameEnd, value, valueEnd int
	folded                         bool // the value goes on over more lines
}

// headerFields is the header of one request, field by field, in the order
// received; it is the request's environ.Header.
type headerFields struct {
	text   string
	spans  []fieldSpan
	folded []string // the values of folded fields, one line each, in order
}

// VisitFields implements environ.Header.
func (f *headerFields) VisitFields(v environ.FieldVisitor) {
	folded := f.folded
	for _, s := range f.spans {
		value := f.text[s.value:s.valueEnd]
		if s.folded {
			value, folded = folded[0], folded[1:]
		}
		v.Field(f.text[s.name:s.nameEnd], value)
	}
}

// unfold joins the lines of folded values with a space, as net/http's
// textproto does.
func (f *headerFields) unfold() {
	f.folded = f.folded[:0]
	for _, s := range f.spans {
		if !s.folded {
			continue
		}
		var b strings.Builder
		for i, line := range strings.Split(f.text[s.value:s.valueEnd], "\n") {
			line = strings.Trim(line, " \t\r")
			if i > 0 && line != "" {
				b.WriteByte(' ')
			}
			b.WriteString(line)
		}
		f.folded = append(f.folded, b.String())
	}
}

// describe fills c.hreq from the parsed header h: the request's strings
// are copied once into one string, of which the target, the Host and the
// field values are pieces.
func (c *conn) describe(h *fasthttp.RequestHeader) {
	raw := h.RawHeaders()
	target := h.RequestURI()
	buf := append(c.scratch[:0], target...)
	method, ok := internString(h.Method(), knownMethods[:])
	methodAt := -1
	if !ok {
		methodAt = len(buf)
		buf = append(buf, h.Method()...)
	}
	proto, ok := internString(h.Protocol(), knownProtos[:])
	protoAt := -1
	if !ok {
		protoAt = len(buf)
		buf = append(buf, h.Protocol()...)
	}
	rawAt := len(buf)
	buf = append(buf, raw...)
	c.scratch = buf[:0]
	text := string(buf)

	if methodAt >= 0 {
		method = text[methodAt : methodAt+len(h.Method())]
	}
	if protoAt >= 0 {
		proto = text[protoAt : protoAt+len(h.Protocol())]
	}
	c.fields.text = text
	c.fields.spans = scanFields(c.fields.spans[:0], raw, rawAt)
	c.fields.folded = c.fields.folded[:0]
	for _, s := range c.fields.spans {
		if s.folded {
			c.fields.unfold()
			break
		}
	}
	host := ""
	for _, s := range c.fields.spans {
		if s.nameEnd-s.name == len("Host") && strings.EqualFold(text[s.name:s.nameEnd], "Host") {
			host = text[s.value:s.valueEnd]
			break
		}
	}

	r := &c.hreq
	r.Method, r.Proto = method, proto
	r.Target = text[:len(target)]
	r.Path, r.Query, r.Host = splitTarget(r.Target, host)
	r.RemoteAddr, r.LocalAddr = c.remote, c.local
	r.TLS = false
	r.Header = &c.fields
	r.Gateway = &c.gateway
	switch n := h.ContentLength(); {
	case n == -1:
		r.Chunked, r.ContentLength, r.Body = true, -1, &c.body
	case n > 0:
		r.Chunked, r.ContentLength, r.Body = false, int64(n), &c.body
	default:
		r.Chunked, r.ContentLength, r.Body = false, 0, nil
	}
}

// scanFields appends the fields of a raw header block (as
// fasthttp.RequestHeader.RawHeaders holds it, already checked by its
// parser) as spans offset by at. A value has its surrounding blanks cut;
// a line that continues the previous one (obs-fold, RFC 9112 5.2) extends
// its value.
func scanFields(dst []fieldSpan, raw []byte, at int) []fieldSpan {
	for len(raw) > 0 {
		end := bytes.IndexByte(raw, '\n')
		line := raw
		if end >= 0 {
			line = raw[:end]
		}
		next := len(line) + 1
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && len(dst) > 0 {
			dst[len(dst)-1].valueEnd = at + len(bytes.TrimRight(line, " \t"))
			dst[len(dst)-1].folded = true
		} else if colon := bytes.IndexByte(line, ':'); colon > 0 {
			name := bytes.TrimRight(line[:colon], " \t")
			vs := colon + 1
			for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
				vs++
			}
			ve := len(bytes.TrimRight(line, " \t"))
			if ve < vs {
				ve = vs
			}
			dst = append(dst, fieldSpan{name: at, nameEnd: at + len(name), value: at + vs, valueEnd: at + ve})
		}
		if end < 0 {
			break
		}
		raw = raw[next:]
		at += next
	}
	return dst
}

// splitTarget returns the escaped path, the query and the authority of a
// request target (RFC 9112 3.2): origin-form "/p?q" keeps host, the Host
// field; absolute-form "http://h/p?q" gives its own authority (an empty
// path meaning "/"); "*" and authority-form give no path, which the environ
// refuses.
func splitTarget(target, host string) (path, query, authority string) {
	if strings.HasPrefix(target, "/") {
		path, query, _ = strings.Cut(target, "?")
		return path, query, host
	}
	_, rest, ok := strings.Cut(target, "://")
	if !ok {
		return "", "", host
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		return "/", "", rest
	}
	authority, rest = rest[:end], rest[end:]
	path, query, _ = strings.Cut(rest, "?")
	if path == "" {
		path = "/"
	}
	return path, query, authority
}
