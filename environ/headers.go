package environ

import (
	"net/http"
	"strings"

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
	// as Go's net/http/cgi and HTTP/2 servers do (RFC 9113 8.2.3; D-08).
	{"Cookie", headerRule{"HTTP_COOKIE", kindCookie}},
	// Content-Type and Content-Length appear only un-prefixed: validate.py
	// rejects HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH (E-10).
	{"Content-Type", headerRule{"CONTENT_TYPE", kindContentType}},
	{"Content-Length", headerRule{"CONTENT_LENGTH", kindContentLength}},
	// Drop Proxy: apps and their HTTP clients read HTTP_PROXY as a proxy
	// setting (httpoxy; net/http/cgi, Go issue 16405; E-24).
	{"Proxy", headerRule{"HTTP_PROXY", kindDrop}},
	// Drop Transfer-Encoding: it is framing, which the server has already
	// undone; the app reads the decoded body.
	{"Transfer-Encoding", headerRule{"HTTP_TRANSFER_ENCODING", kindDrop}},
	// Drop a Host field: HTTP_HOST comes from r.Host, which net/http fills
	// from the field or from an absolute-form target (E-14).
	{"Host", headerRule{"HTTP_HOST", kindDrop}},
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
	add := func(name string, rule headerRule) {
		i := ruleSlot(name)
		for ruleTable[i].name != "" {
			i = (i + 1) % uint32(len(ruleTable))
		}
		ruleTable[i].name, ruleTable[i].rule = name, rule
		rulesByKey[httpKey(name)] = rule
	}
	for _, name := range commonHeaders {
		add(name, headerRule{httpKey(name), kindCopy})
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
			// gunicorn header_map=drop; E-13, D-07).
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
func appendHeaders(dst Vars, start int, r *http.Request) Vars {
	// merge is set once a name not in canonical form is seen. Such names
	// occur only in headers built in process ("accept" next to "Accept");
	// from then on every key is looked up first so that none is emitted
	// twice. Canonical names map to distinct keys, so the usual case needs
	// no lookups.
	merge := false
	for name, vs := range r.Header {
		if len(vs) == 0 {
			continue
		}
		rule, ok := lookupRule(name)
		if !ok {
			valid, canonical := scanName(name)
			if !valid {
				continue
			}
			rule.key = httpKey(name)
			if !canonical {
				merge = true
				if known, ok := rulesByKey[rule.key]; ok {
					rule = known
				}
			}
		}

		var value string
		switch rule.kind {
		case kindDrop:
			continue
		case kindContentType:
			// As received, "" included; no default (E-09). A repeated
			// Content-Type is malformed; the first wins, as Header.Get.
			value = vs[0]
		case kindContentLength:
			// Present iff the body is framed by Content-Length (E-08).
			// net/http deletes the field when Transfer-Encoding is set;
			// the check also covers requests built in process.
			if len(r.TransferEncoding) > 0 {
				continue
			}
			value = vs[0]
		case kindCookie:
			value = join(vs, "; ")
		default:
			value = join(vs, ", ")
		}

		if merge {
			if i := index(dst[start:], rule.key); i >= 0 {
				v := &dst[start+i]
				switch rule.kind {
				case kindCookie:
					v.Value += "; " + value
				case kindCopy:
					v.Value += ", " + value
				}
				continue
			}
		}
		dst = append(dst, Var{rule.key, value})
	}
	return dst
}

// join joins repeated field values in order (RFC 3875 4.1.18: "MUST rewrite
// them as a single value having the same semantics"). A single value is
// returned as is, without allocating.
func join(vs []string, sep string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, sep)
}

func index(vars Vars, name string) int {
	for i := range vars {
		if vars[i].Name == name {
			return i
		}
	}
	return -1
}
