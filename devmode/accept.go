package devmode

import (
	"strconv"
	"strings"
)

// WantsJSON reports whether a client whose Accept header is accept prefers
// JSON to HTML (RFC 9110 12.5.1): the quality of application/json (or a
// +json type) beats that of text/html, each taken from the most specific
// range that matches it. Browsers ask for HTML first; "*/*" and no header
// at all get HTML.
func WantsJSON(accept string) bool {
	jsonQ, htmlQ := quality(accept, "application", "json"), quality(accept, "text", "html")
	return jsonQ > 0 && jsonQ > htmlQ
}

// AsksForHTML reports whether a client whose Accept header is accept names
// text/html with a quality above 0, as a browser loading a page does; a
// client that sends "*/*" or nothing (curl, fetch, most API clients) does
// not.
func AsksForHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		rng, params, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(rng), "text/html") {
			return qValue(params) > 0
		}
	}
	return false
}

// quality is the q-value accept gives type/subtype: that of the most
// specific matching range (type/subtype, then type/*, then */*), 0 when
// none matches.
func quality(accept, typ, sub string) float64 {
	best, q := 0, 0.0
	for part := range strings.SplitSeq(accept, ",") {
		rng, params, _ := strings.Cut(part, ";")
		t, s, ok := strings.Cut(strings.ToLower(strings.TrimSpace(rng)), "/")
		if !ok {
			continue
		}
		spec := 0
		switch {
		case t == typ && (s == sub || strings.HasSuffix(s, "+"+sub)):
			spec = 3
		case t == typ && s == "*":
			spec = 2
		case t == "*" && s == "*":
			spec = 1
		}
		if spec > best {
			best, q = spec, qValue(params)
		}
	}
	return q
}

// qValue reads q=VALUE from a range's parameters; 1 without one.
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil || v < 0 || v > 1 {
				return 0
			}
			return v
		}
	}
	return 1
}
