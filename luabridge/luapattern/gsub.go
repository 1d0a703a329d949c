package luapattern

import "strconv"

// Replacer appends the replacement of one match, src[start:end], to dst.
// It may read the match's captures with [Matcher.Capture].
type Replacer func(dst []byte, start, end int) ([]byte, error)

// Gsub replaces the matches of p in s, at most max of them, as string.gsub
// does, and returns the result and the number of matches. A '^' at the start
// of p anchors the only match tried at the start of s. An empty match
// replaces the empty string and the scan moves on by one byte. Past maxLen
// bytes of result (maxLen > 0) Gsub stops with [ErrTooLong].
//
// repl is called outside the matcher, so it may run code that uses other
// Matchers; a panic in it goes through Gsub untouched.
func (m *Matcher) Gsub(s, p string, max, maxLen int, repl Replacer) (string, int, error) {
	pi, anchored := m.begin(s, p, true)
	var (
		out []byte
		err error
	)
	pos, copied, n := 0, 0, 0
	for n < max {
		var start, end int
		if start, end, err = m.scanCaught(pos, pi, anchored); err != nil {
			return "", n, err
		}
		if start < 0 {
			break
		}
		n++
		if out, err = appendLimited(out, s[copied:start], maxLen); err != nil {
			return "", n, err
		}
		if out, err = repl(out, start, end); err != nil {
			return "", n, err
		}
		if maxLen > 0 && len(out) > maxLen {
			return "", n, ErrTooLong
		}
		copied = end
		switch {
		case end > start:
			pos = end
		case start < len(s):
			pos = start + 1 // the byte at start is copied with the next piece
		default:
			pos = len(s) + 1
		}
		if anchored || pos > len(s) {
			break
		}
	}
	if n == 0 {
		return s, 0, nil
	}
	if out, err = appendLimited(out, s[copied:], maxLen); err != nil {
		return "", n, err
	}
	return string(out), n, nil
}

// scanCaught is scan for Gsub, which calls back between scans.
func (m *Matcher) scanCaught(from, pi int, anchored bool) (start, end int, err error) {
	defer m.catch(&err)
	start, end = m.scan(from, pi, anchored)
	return start, end, nil
}

// Expand appends the expansion of a string.gsub replacement string for the
// last match, src[start:end]: %0 is the whole match, %1 to %9 its captures
// (with no captures, %1 is the whole match too), a position capture gives
// its 1-based position, and % followed by any other byte gives that byte
// (so %% is a percent sign). Past maxLen bytes (maxLen > 0) it stops with
// [ErrTooLong].
func (m *Matcher) Expand(dst []byte, tmpl string, start, end, maxLen int) ([]byte, error) {
	var err error
	for i := 0; i < len(tmpl); i++ {
		j := i
		for j < len(tmpl) && tmpl[j] != '%' {
			j++
		}
		if dst, err = appendLimited(dst, tmpl[i:j], maxLen); err != nil || j == len(tmpl) {
			return dst, err
		}
		i = j + 1
		var c byte // a '%' at the very end stands for the C string's final zero byte, as in Lua 5.1
		if i < len(tmpl) {
			c = tmpl[i]
		}
		switch {
		case !isDigit(c):
			dst, err = appendLimited(dst, string(c), maxLen)
		case c == '0':
			dst, err = appendLimited(dst, m.src[start:end], maxLen)
		default:
			var cp Capture
			if cp, err = m.Capture(int(c-'1'), start, end); err != nil {
				return dst, err
			}
			if cp.Position {
				dst, err = appendLimited(dst, strconv.Itoa(cp.Start+1), maxLen)
			} else {
				dst, err = appendLimited(dst, m.src[cp.Start:cp.End], maxLen)
			}
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendLimited appends s to dst unless the result would pass maxLen bytes
// (when maxLen > 0).
func appendLimited(dst []byte, s string, maxLen int) ([]byte, error) {
	if maxLen > 0 && len(dst)+len(s) > maxLen {
		return dst, ErrTooLong
	}
	return append(dst, s...), nil
}
