package luapattern

import "strings"

// The matcher proper: a backtracking match of the pattern m.pat against the
// subject m.src, following the rules of the Lua 5.1 reference manual §5.4.1.
// Positions are byte offsets; -1 means "no match here". Errors abort through
// m.fail.

// match matches the pattern from position p against the subject from
// position s, and returns where the match ends, or -1.
func (m *Matcher) match(s, p int) int {
	if m.depth >= MaxDepth {
		m.fail(errTooComplex)
	}
	m.depth++
	e := m.matchItems(s, p)
	m.depth--
	return e
}

// matchItems walks the pattern item by item. Items that match one way only
// advance in the loop; items with alternatives recurse through match.
func (m *Matcher) matchItems(s, p int) int {
	src, pat := m.src, m.pat
	for {
		m.step()
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b':
					if s = m.matchBalance(s, p+2); s < 0 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					var ok bool
					if p, ok = m.frontier(s, p+2); !ok {
						return -1
					}
					continue
				case isDigit(c):
					if s = m.backReference(s, c); s < 0 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		// A single character class, maybe followed by a quantifier.
		ep := m.classEnd(p)
		ok := s < len(src) && m.single(src[s], p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if ok {
					if e := m.match(s+1, ep+1); e >= 0 {
						return e
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.maxExpand(s, p, ep)
			case '+':
				if !ok {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-':
				return m.minExpand(s, p, ep)
			}
		}
		if !ok {
			return -1
		}
		s++
		p = ep
	}
}

// classEnd returns the end of the single character class starting at p.
func (m *Matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			m.fail(errEndsWithPercent)
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		// The first character is part of the set even if it is ']'.
		for {
			if p >= len(pat) {
				m.fail(errMissingBracket)
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++ // an escape such as %]
			}
			if p < len(pat) && pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

// single reports whether byte c matches the class pat[p:ep].
func (m *Matcher) single(c byte, p, ep int) bool {
	switch pc := m.pat[p]; pc {
	case '.':
		return true
	case '%':
		return matchClass(c, m.pat[p+1])
	case '[':
		return m.matchSet(c, p, ep-1)
	default:
		return pc == c
	}
}

// matchSet reports whether c is in the set pat[p:ec+1], from its '[' to its
// closing ']'.
func (m *Matcher) matchSet(c byte, p, ec int) bool {
	pat := m.pat
	in := true
	if pat[p+1] == '^' {
		in = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return in
			}
		case pat[p+1] == '-' && p+2 < ec:
			if pat[p] <= c && c <= pat[p+2] {
				return in
			}
			p += 2
		case pat[p] == c:
			return in
		}
	}
	return !in
}

// maxExpand matches the longest run of the class pat[p:ep] it can and then
// the rest of the pattern, giving back one byte at a time (the * and +
// quantifiers).
func (m *Matcher) maxExpand(s, p, ep int) int {
	i := m.span(s, p, ep, false)
	m.charge(i - s)
	lit, isLit := m.nextLiteral(ep + 1)
	for ; i >= s; i-- {
		if isLit {
			// Only a position holding the literal can go on: jump back
			// to the last one, counting the positions passed over.
			j := strings.LastIndexByte(m.src[s:min(i+1, len(m.src))], lit) + s
			m.charge(i - max(j, s))
			if i = j; i < s {
				return -1
			}
		}
		if e := m.match(i, ep+1); e >= 0 {
			return e
		}
	}
	return -1
}

// minExpand matches the rest of the pattern after as few bytes of the class
// pat[p:ep] as it can (the - quantifier).
func (m *Matcher) minExpand(s, p, ep int) int {
	src := m.src
	lit, isLit := m.nextLiteral(ep + 1)
	for {
		if !isLit || (s < len(src) && src[s] == lit) {
			if e := m.match(s, ep+1); e >= 0 {
				return e
			}
		} else {
			m.step() // a position passed over
		}
		if s < len(src) && m.single(src[s], p, ep) {
			s++
		} else {
			return -1
		}
	}
}

// nextLiteral reports whether the pattern from q can only match where the
// subject holds one given byte, and which: a literal, maybe after ')'s that
// close captures (which cannot fail). Repetitions then skip the positions
// that cannot match, which Lua would try and reject one by one.
func (m *Matcher) nextLiteral(q int) (byte, bool) {
	pat := m.pat
	closes := 0
	for q < len(pat) && pat[q] == ')' {
		closes++
		q++
	}
	if closes > 0 {
		open := 0
		for l := range m.level {
			if m.caps[l].n == capUnfinished {
				open++
			}
		}
		if closes > open {
			return 0, false // Lua raises an error there: let match do it
		}
	}
	if q < len(pat) && isLiteral(pat, q) {
		return pat[q], true
	}
	return 0, false
}

// span returns the first position from s on whose byte matches the class
// pat[p:ep] (want true) or does not (want false), or len(src). It is single
// in a loop, with the loop inside each kind of class.
func (m *Matcher) span(s, p, ep int, want bool) int {
	src, pat := m.src, m.pat
	switch pc := pat[p]; pc {
	case '.':
		if want {
			return s
		}
		return len(src)
	case '%':
		k := classOf[pat[p+1]]
		if k.mask == 0 {
			return spanByte(src, s, pat[p+1], want)
		}
		for ; s < len(src); s++ {
			if (ctype[src[s]]&k.mask != 0) != k.negate == want {
				return s
			}
		}
		return s
	case '[':
		for ; s < len(src); s++ {
			if m.matchSet(src[s], p, ep-1) == want {
				return s
			}
		}
		return s
	default:
		return spanByte(src, s, pc, want)
	}
}

// spanByte is span for a class of one byte c.
func spanByte(src string, s int, c byte, want bool) int {
	if want {
		if i := strings.IndexByte(src[s:], c); i >= 0 {
			return s + i
		}
		return len(src)
	}
	for s < len(src) && src[s] == c {
		s++
	}
	return s
}

// startCapture opens a capture at s (a position capture when what is
// capPosition) and matches the rest of the pattern from p.
func (m *Matcher) startCapture(s, p, what int) int {
	if m.level >= MaxCaptures {
		m.fail(errTooManyCaptures)
	}
	m.caps[m.level] = capture{start: s, n: what}
	m.level++
	e := m.match(s, p)
	if e < 0 {
		m.level--
	}
	return e
}

// endCapture closes the innermost open capture at s and matches the rest of
// the pattern from p.
func (m *Matcher) endCapture(s, p int) int {
	l := m.level - 1
	for l >= 0 && m.caps[l].n != capUnfinished {
		l--
	}
	if l < 0 {
		m.fail(errPatternCapture)
	}
	m.caps[l].n = s - m.caps[l].start
	e := m.match(s, p)
	if e < 0 {
		m.caps[l].n = capUnfinished
	}
	return e
}

// matchBalance matches %bxy, with x and y at pat[p] and pat[p+1]: an x, then
// text in which x and y balance, then the y that closes the first x.
func (m *Matcher) matchBalance(s, p int) int {
	pat, src := m.pat, m.src
	if p+1 >= len(pat) {
		m.fail(errUnbalanced)
	}
	open, closing := pat[p], pat[p+1]
	if s >= len(src) || src[s] != open {
		return -1
	}
	depth := 1
	for s++; s < len(src); s++ {
		m.step()
		switch src[s] {
		case closing:
			if depth--; depth == 0 {
				return s + 1
			}
		case open:
			depth++
		}
	}
	return -1
}

// frontier matches %f[set], whose '[' is at pat[p]: the empty string between
// a byte not in the set and a byte in it, where the start and the end of the
// subject count as the byte 0. It returns the position after the set.
func (m *Matcher) frontier(s, p int) (int, bool) {
	pat, src := m.pat, m.src
	if p >= len(pat) || pat[p] != '[' {
		m.fail(errFrontier)
	}
	ep := m.classEnd(p)
	var prev, cur byte
	if s > 0 {
		prev = src[s-1]
	}
	if s < len(src) {
		cur = src[s]
	}
	if m.matchSet(prev, p, ep-1) || !m.matchSet(cur, p, ep-1) {
		return 0, false
	}
	return ep, true
}

// backReference matches %1 to %9 (digit is the byte after '%'): the same text
// as that capture matched.
func (m *Matcher) backReference(s int, digit byte) int {
	l := int(digit) - '1'
	if l < 0 || l >= m.level || m.caps[l].n == capUnfinished {
		m.fail(errCaptureIndex)
	}
	c := m.caps[l]
	if c.n == capPosition || len(m.src)-s < c.n {
		return -1 // a position is no text: Lua 5.1 never matches it
	}
	m.charge(c.n >> 4)
	if m.src[s:s+c.n] != m.src[c.start:c.start+c.n] {
		return -1
	}
	return s + c.n
}
