package environ

import (
	"strings"
	"sync"

	"github.com/lsgi/lsgi/httpsyntax"
)

// headerKind says what Build does with a header.
type headerKind uint8

const (
	kindCopy          headerKind = iota // HTTP_<NAME>, repeats joined with ", "
	kindCookie                          // HTTP_COOKIE, repeats joined with "; "
	kindDrop                            // never exported
	kindContentType                     // CONTENT_TYPE, un-prefixed
	kindContentLength                   // CONTENT_LENGTH, un-prefixed, if not chunked
)

// headerRule is the variable name and treatment of one header.
type headerRule struct {
	key  string
	kind headerKind
	id   uint8 // the rule's number, to mark it seen in a request
}

// commonHeaders lists, in canonical form, the request headers whose
// HTTP_<NAME> keys are computed once, so that a typical request builds no
// key. The list is fixed: names chosen by clients are never added, because a
// cache of them would grow without bound.
var commonHeaders = [...]string{
	"Accept",
	"Accept-Charset",
	"Accept-Encoding",
	"Accept-Language",
	"Access-Control-Request-Headers",
	"Access-Control-Request-Method",
	"Authorization",
	"Cache-Control",
	"Cdn-Loop",
	"Connection",
	"Content-Encoding",
	"Content-Language",
	"Content-Md5",
	"Date",
	"Dnt",
	"Early-Data",
	"Expect",
	"Forwarded",
	"From",
	"If-Match",
	"If-Modified-Since",
	"If-None-Match",
	"If-Range",
	"If-Unmodified-Since",
	"Keep-Alive",
	"Max-Forwards",
	"Origin",
	"Pragma",
	"Priority",
	"Proxy-Authorization",
	"Range",
	"Referer",
	"Sec-Ch-Ua",
	"Sec-Ch-Ua-Mobile",
	"Sec-Ch-Ua-Platform",
	"Sec-Fetch-Dest",
	"Sec-Fetch-Mode",
	"Sec-Fetch-Site",
	"Sec-Fetch-User",
	"Sec-Gpc",
	"Sec-Purpose",
	"Sec-Websocket-Extensions",
	"Sec-Websocket-Key",
	"Sec-Websocket-Protocol",
	"Sec-Websocket-Version",
	"Te",
	"Traceparent",
	"Tracestate",
	"Upgrade",
	"Upgrade-Insecure-Requests",
	"User-Agent",
	"Via",
	"Warning",
	"X-Correlation-Id",
	"X-Csrf-Token",
	"X-Forwarded-For",
	"X-Forwarded-Host",
	"X-Forwarded-Port",
	"X-Forwarded-Prefix",
	"X-Forwarded-Proto",
	"X-Real-Ip",
	"X-Request-Id",
	"X-Requested-With",
}

// specialHeaders are the headers that are not copied as HTTP_<NAME>.
var specialHeaders = [...]struct {
	name string
	rule headerRule
}{
	// Repeated Cookie fields are joined with "; ", the cookie separator,
	// as Go's net/http/cgi and HTTP/2 servers do (RFC 9113 8.2.3;
	// docs/SPEC.md 9.3).
	{"Cookie", headerRule{key: "HTTP_COOKIE", kind: kindCookie}},
	// Content-Type and Content-Length appear only un-prefixed: validate.py
	// rejects HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH (docs/SPEC.md 9.3).
	{"Content-Type", headerRule{key: "CONTENT_TYPE", kind: kindContentType}},
	{"Content-Length", headerRule{key: "CONTENT_LENGTH", kind: kindContentLength}},
	// Drop Proxy: apps and their HTTP clients read HTTP_PROXY as a proxy
	// setting (httpoxy; net/http/cgi, Go issue 16405).
	{"Proxy", headerRule{key: "HTTP_PROXY", kind: kindDrop}},
	// Drop Transfer-Encoding: it is framing, which the server has already
	// undone; the app reads the decoded body.
	{"Transfer-Encoding", headerRule{key: "HTTP_TRANSFER_ENCODING", kind: kindDrop}},
	// Drop a Host field: HTTP_HOST comes from r.Host, which net/http fills
	// from the field or from an absolute-form target (docs/SPEC.md 9.3).
	{"Host", headerRule{key: "HTTP_HOST", kind: kindDrop}},
}

// The rules of the names above, built once and read-only afterwards.
// ruleTable is an open-addressing table keyed by canonical name and probed
// from a hash of the length and four bytes, which is cheaper than a map's
// hash of the whole name; whatever the name, a lookup scans at most one
// cluster of the fixed table. rulesByKey maps an HTTP_<NAME> key to the rule
// for any spelling of the name; only names not in canonical form use it.
var (
	ruleTable [1 << ruleTableBits]struct {
		name string // "" marks an empty slot
		rule headerRule
	}
	rulesByKey = make(map[string]headerRule, len(commonHeaders)+len(specialHeaders))
)

// ruleTableBits sizes ruleTable to about four slots per name, which keeps
// probe sequences short (TestHeaderTable checks them).
const ruleTableBits = 8

func init() {
	n := 0
	add := func(name string, rule headerRule) {
		if n == maxRules {
			panic("environ: more header rules than maxRules")
		}
		rule.id = uint8(n)
		n++
		i := ruleSlot(name)
		for ruleTable[i].name != "" {
			i = (i + 1) % uint32(len(ruleTable))
		}
		ruleTable[i].name, ruleTable[i].rule = name, rule
		rulesByKey[httpKey(name)] = rule
	}
	for _, name := range commonHeaders {
		add(name, headerRule{key: httpKey(name), kind: kindCopy})
	}
	for _, s := range specialHeaders {
		add(s.name, s.rule)
	}
}

// ruleSlot returns the first slot to probe for a non-empty name.
func ruleSlot(name string) uint32 {
	n := len(name)
	x := uint32(n) | uint32(name[0])<<8 | uint32(name[n-1])<<16 | uint32(name[n/2])<<24
	x ^= uint32(name[n*3/4]) << 5
	x *= 0x9E3779B1
	return x >> (32 - ruleTableBits)
}

// lookupRule returns the rule for a header name in canonical form. The table
// always has empty slots, so every probe sequence ends.
func lookupRule(name string) (headerRule, bool) {
	if name == "" {
		return headerRule{}, false
	}
	for i := ruleSlot(name); ; i = (i + 1) % uint32(len(ruleTable)) {
		e := &ruleTable[i]
		if e.name == name {
			return e.rule, true
		}
		if e.name == "" {
			return headerRule{}, false
		}
	}
}

// httpKey returns "HTTP_" + name in upper case with '-' turned into '_'
// (RFC 3875 4.1.18), in one allocation. name must be a valid key name (see
// scanName).
func httpKey(name string) string {
	var b strings.Builder
	b.Grow(len("HTTP_") + len(name))
	b.WriteString("HTTP_")
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case c == '-':
			c = '_'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// scanName reports whether a header name may be exported, and whether it is
// in canonical form (textproto.CanonicalMIMEHeaderKey), without allocating.
func scanName(name string) (ok, canonical bool) {
	if name == "" {
		return false, false
	}
	canonical = true
	upper := true // the next letter is upper case in canonical form
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			// Drop names with '_': X_Auth must not pose as X-Auth, since
			// both would map to HTTP_X_AUTH (werkzeug make_environ;
			// gunicorn header_map=drop; docs/SPEC.md 9.3).
			return false, false
		case !httpsyntax.IsTokenChar(c):
			// Not an RFC 9110 token, so never received over HTTP (only
			// built in process); dropping it keeps every key a token,
			// free of '=', spaces and NULs.
			return false, false
		case 'a' <= c && c <= 'z':
			if upper {
				canonical = false
			}
		case 'A' <= c && c <= 'Z':
			if !upper {
				canonical = false
			}
		}
		upper = c == '-'
	}
	return true, canonical
}

// appendHeaders appends CONTENT_TYPE, CONTENT_LENGTH and the HTTP_*
// variables of r's header fields. dst[start:] are the variables Build has
// emitted so far for r.
func appendHeaders(dst Vars, start int, r *Request) Vars {
	if r.Header == nil {
		return dst
	}
	s := sinkPool.Get().(*fieldSink)
	s.dst, s.start, s.chunked = dst, start, r.Chunked
	r.Header.VisitFields(s)
	s.join()
	dst = s.dst
	*s = fieldSink{repeats: s.repeats[:0]}
	sinkPool.Put(s)
	return dst
}

// sinkPool keeps fieldSinks: a Header's VisitFields takes an interface, so
// a sink made per request would be one allocation each.
var sinkPool = sync.Pool{New: func() any { return new(fieldSink) }}

// fieldSink is the FieldVisitor of one Build: it turns each field into a
// variable, and a repeated field into a part joined to the variable of the
// first one.
type fieldSink struct {
	dst     Vars
	start   int
	chunked bool
	seen    [maxRules / 64]uint64 // known rules already emitted
	others  int                   // variables of names without a rule
	index   map[string]int        // positions in dst, once there are many variables
	repeats []repeat              // values of repeated fields, joined at the end
}

// repeat is the value of a repeated field, to be joined to dst[at] with sep.
type repeat struct {
	at         int
	sep, value string
}

// maxRules bounds the number of known rules, so that a fieldSink marks them
// in a fixed bit set.
const maxRules = 256

// manyOthers is how many fields without a rule are looked for by a scan of
// the variables; past it, by a map, so that a request of many fields costs
// no quadratic time.
const manyOthers = 16

// Field implements [FieldVisitor].
func (s *fieldSink) Field(name, value string) {
	rule, known := lookupRule(name)
	if !known {
		valid, canonical := scanName(name)
		if !valid {
			return
		}
		key := httpKey(name)
		if !canonical {
			// Only a request built in process has such a name ("accept"
			// beside "Accept"): it shares the rule of its canonical form.
			rule, known = rulesByKey[key]
		}
		if !known {
			rule = headerRule{key: key, kind: kindCopy}
		}
	}
	switch rule.kind {
	case kindDrop:
		return
	case kindContentLength:
		// Present iff the body is framed by Content-Length (docs/SPEC.md
		// 9.3); net/http deletes the field when Transfer-Encoding is set,
		// and the check also covers requests built in process.
		if s.chunked {
			return
		}
	}
	at := s.find(rule, known)
	switch {
	case at < 0:
		s.add(rule, known, value)
	case rule.kind == kindCookie:
		// Cookie lines are joined with the cookie separator, as Go's
		// net/http/cgi and HTTP/2 servers do (RFC 9113 8.2.3).
		s.repeats = append(s.repeats, repeat{at, "; ", value})
	case rule.kind == kindCopy:
		s.repeats = append(s.repeats, repeat{at, ", ", value})
	}
	// A repeated Content-Type or Content-Length is malformed: the first
	// wins, as with http.Header.Get.
}

// find returns the position in dst of the variable an earlier field of the
// rule's name made, or -1.
func (s *fieldSink) find(rule headerRule, known bool) int {
	if known && s.seen[rule.id/64]&(1<<(rule.id%64)) == 0 {
		return -1
	}
	if s.index != nil {
		if i, ok := s.index[rule.key]; ok {
			return i
		}
		return -1
	}
	for i := s.start; i < len(s.dst); i++ {
		if s.dst[i].Name == rule.key {
			return i
		}
	}
	return -1
}

// add appends the variable of a field seen for the first time.
func (s *fieldSink) add(rule headerRule, known bool, value string) {
	if known {
		s.seen[rule.id/64] |= 1 << (rule.id % 64)
	} else if s.others++; s.others > manyOthers && s.index == nil {
		s.index = make(map[string]int, 4*manyOthers)
		for i := s.start; i < len(s.dst); i++ {
			s.index[s.dst[i].Name] = i
		}
	}
	if s.index != nil {
		s.index[rule.key] = len(s.dst)
	}
	s.dst = append(s.dst, Var{rule.key, value})
}

// join joins repeated fields to their first (RFC 3875 4.1.18: "MUST
// rewrite them as a single value having the same semantics"), in order,
// building each value once.
func (s *fieldSink) join() {
	for n, r := range s.repeats {
		if r.at < 0 {
			continue // joined already, with an earlier repeat
		}
		v := &s.dst[r.at]
		size := len(v.Value)
		for _, o := range s.repeats[n:] {
			if o.at == r.at {
				size += len(o.sep) + len(o.value)
			}
		}
		var b strings.Builder
		b.Grow(size)
		b.WriteString(v.Value)
		for i := n; i < len(s.repeats); i++ {
			if o := &s.repeats[i]; o.at == r.at {
				b.WriteString(o.sep)
				b.WriteString(o.value)
				o.at = -1
			}
		}
		v.Value = b.String()
	}
}
