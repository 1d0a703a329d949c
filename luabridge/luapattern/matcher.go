package luapattern

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

const (
	// MaxCaptures is the most captures one pattern may have (Lua 5.1's
	// LUA_MAXCAPTURES); one more fails with "too many captures".
	MaxCaptures = 32

	// MaxDepth bounds how deeply matching may nest (Lua 5.2's MAXCCALLS for
	// patterns): each repetition, optional item and capture in a pattern
	// adds a level, so a pattern of more than about 200 of them fails with
	// "pattern too complex".
	MaxDepth = 200

	// DefaultBudget is the step budget of a Matcher reset with a budget of
	// zero or less: ten million steps. A scan for a class, a set or a
	// literal takes about one step per subject byte, so this is enough for
	// any such scan of several megabytes, and far below what a backtracking
	// pattern such as ".-.-.-b" needs on a few hundred bytes.
	DefaultBudget = 10_000_000

	// checkEvery is how many steps pass between two looks at the context.
	checkEvery = 1 << 14
)

// ErrBudget is returned by a call that would have taken more steps than the
// budget set by [Matcher.Reset] allows.
var ErrBudget = errors.New("luapattern: step budget exceeded")

// ErrTooLong is returned by [Matcher.Gsub] and [Matcher.Expand] when the
// result would be longer than the limit they were given.
var ErrTooLong = errors.New("luapattern: result too long")

// Error is an error in a pattern or in a reference to a capture. Msg is worded
// as Lua 5.1 words it, for example "malformed pattern (missing ']')".
type Error struct {
	Msg string
}

func (e *Error) Error() string { return "luapattern: " + e.Msg }

// The errors of Lua 5.1's string library, plus "pattern too complex".
var (
	errEndsWithPercent = &Error{"malformed pattern (ends with '%')"}
	errMissingBracket  = &Error{"malformed pattern (missing ']')"}
	errCaptureIndex    = &Error{"invalid capture index"}
	errPatternCapture  = &Error{"invalid pattern capture"}
	errUnfinished      = &Error{"unfinished capture"}
	errFrontier        = &Error{"missing '[' after '%f' in pattern"}
	errUnbalanced      = &Error{"unbalanced pattern"}
	errTooManyCaptures = &Error{"too many captures"}
	errTooComplex      = &Error{"pattern too complex"}
)

// Capture lengths with a special meaning.
const (
	capUnfinished = -1 // opened, not yet closed
	capPosition   = -2 // a position capture ()
)

type capture struct {
	start int
	n     int // length, or capUnfinished or capPosition
}

// Capture is one capture of a match: the text src[Start:End], or, for a
// position capture, the position Start (== End); Lua numbers it Start+1.
type Capture struct {
	Start, End int
	Position   bool
}

// filter kinds: how a scan skips positions where no match can start.
const (
	filterNone   = iota
	filterPrefix // the pattern starts with a literal string
	filterItem   // the pattern starts with one character class, once or with +
)

// Matcher matches Lua patterns and keeps the captures of its last match.
// The zero value is ready to use, with [DefaultBudget] and no context.
type Matcher struct {
	src   string
	pat   string // the pattern, cut at its first zero byte
	level int    // captures in use
	caps  [MaxCaptures]capture
	depth int

	// how the current pattern's scans skip impossible starts
	filter  int
	prefix  string // filterPrefix: the literal the match must start with
	item    int    // filterItem: the first item
	itemEnd int    // filterItem: its end

	// step accounting: steps = spent + chunk - left
	budget int
	spent  int
	chunk  int
	left   int
	ctx    context.Context
	done   <-chan struct{}
}

// abort carries an error from deep in the matcher to the public method that
// started it; nothing else is ever recovered.
type abort struct{ err error }

func (m *Matcher) fail(err error) { panic(abort{err}) }

// catch turns an abort into *err; any other panic goes on.
func (m *Matcher) catch(err *error) {
	if r := recover(); r != nil {
		a, ok := r.(abort)
		if !ok {
			panic(r)
		}
		*err = a.err
	}
}

// Reset starts a new budget of steps for the calls that follow, and makes
// them stop when ctx is done (ctx may be nil). A budget of zero or less
// means [DefaultBudget]. One Lua call is one Reset: string.gsub shares one
// budget among all its matches. Reset also drops the Matcher's references to
// the last subject and pattern, so that an idle Matcher holds no memory.
func (m *Matcher) Reset(ctx context.Context, budget int) {
	if budget <= 0 {
		budget = DefaultBudget
	}
	m.budget, m.spent, m.chunk, m.left = budget, 0, 0, 0
	m.ctx, m.done = ctx, nil
	m.src, m.pat, m.prefix, m.level = "", "", "", 0
	if ctx != nil {
		m.done = ctx.Done()
	}
}

// Steps returns how many steps the calls since the last Reset took.
func (m *Matcher) Steps() int { return m.spent + m.chunk - m.left }

// step counts one step.
func (m *Matcher) step() {
	if m.left == 0 {
		m.refill()
	}
	m.left--
}

// charge counts n steps at once.
func (m *Matcher) charge(n int) {
	for n > 0 {
		if m.left == 0 {
			m.refill()
		}
		k := min(n, m.left)
		m.left -= k
		n -= k
	}
}

// refill starts the next chunk of steps: the budget and the context are
// checked once a chunk, not once a step.
func (m *Matcher) refill() {
	if m.budget <= 0 {
		m.budget = DefaultBudget
	}
	m.spent += m.chunk
	m.chunk = 0
	if m.spent >= m.budget {
		m.fail(ErrBudget)
	}
	if m.done != nil {
		select {
		case <-m.done:
			m.fail(fmt.Errorf("luapattern: interrupted: %w", m.ctx.Err()))
		default:
		}
	}
	m.chunk = min(checkEvery, m.budget-m.spent)
	m.left = m.chunk
}

// begin prepares a match of pattern p against subject s. anchorable says
// whether a leading '^' anchors (it does not in gmatch); begin returns the
// pattern position where matching starts and whether it is anchored.
func (m *Matcher) begin(s, p string, anchorable bool) (start int, anchored bool) {
	if i := strings.IndexByte(p, 0); i >= 0 {
		p = p[:i] // Lua 5.1 reads a pattern as a C string
	}
	m.src, m.pat, m.level, m.depth = s, p, 0, 0
	if anchorable && len(p) > 0 && p[0] == '^' {
		start, anchored = 1, true
	}
	m.filter = filterNone
	if !anchored {
		m.planScan(start)
	}
	return start, anchored
}

// IsPlain reports whether p has none of the characters that make it a
// pattern rather than plain text, in which case string.find searches for it
// as plain text (as Lua 5.1 does, only the part before a zero byte counts).
func IsPlain(p string) bool {
	if i := strings.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return !strings.ContainsAny(p, "^$*+?.([%-")
}

// StartIndex converts the 1-based init argument of string.find,
// string.match and the like, which counts from the end when negative, to a
// byte offset into a subject of n bytes, between 0 and n.
func StartIndex(init, n int) int {
	if init < 0 {
		init += n + 1
	}
	switch {
	case init <= 0:
		return 0
	case init-1 > n:
		return n
	}
	return init - 1
}

// Find finds the first match of pattern p in s at or after the byte offset
// init, as string.find and string.match do: a pattern starting with '^'
// matches only at init. It returns the match s[start:end], or start = -1
// when there is none or on error. The captures are then available through
// [Matcher.Capture]. An init outside [0, len(s)] is moved to the nearer end;
// [StartIndex] converts Lua's init argument.
func (m *Matcher) Find(s, p string, init int) (start, end int, err error) {
	start, end = -1, -1
	defer m.catch(&err)
	pi, anchored := m.begin(s, p, true)
	start, end = m.scan(min(max(init, 0), len(s)), pi, anchored)
	return start, end, nil
}

// Gmatch finds the first match of p in s at or after the byte offset from, as
// one call of string.gmatch's iterator does: in Lua 5.1 a '^' anchors nothing
// there and matches itself. It returns start = -1 when there is no match,
// from > len(s) included, or on error.
func (m *Matcher) Gmatch(s, p string, from int) (start, end int, err error) {
	start, end = -1, -1
	if from > len(s) {
		return start, end, nil
	}
	defer m.catch(&err)
	pi, _ := m.begin(s, p, false)
	start, end = m.scan(max(from, 0), pi, false)
	return start, end, nil
}

// Captures returns how many captures the last match made.
func (m *Matcher) Captures() int { return m.level }

// Capture returns capture i (from 0) of the last match, which spans
// src[start:end]. With no captures, capture 0 is the whole match.
func (m *Matcher) Capture(i, start, end int) (Capture, error) {
	if i >= m.level {
		if i == 0 {
			return Capture{Start: start, End: end}, nil
		}
		return Capture{}, errCaptureIndex
	}
	c := m.caps[i]
	switch c.n {
	case capUnfinished:
		return Capture{}, errUnfinished
	case capPosition:
		return Capture{Start: c.start, End: c.start, Position: true}, nil
	}
	return Capture{Start: c.start, End: c.start + c.n}, nil
}

// scan tries a match at each position from `from` on (only there when
// anchored) and returns the first, or -1, -1.
func (m *Matcher) scan(from, pi int, anchored bool) (start, end int) {
	src := m.src
	for s := from; ; s++ {
		if !anchored {
			var ok bool
			if s, ok = m.skip(s); !ok {
				return -1, -1
			}
		}
		m.level, m.depth = 0, 0
		if e := m.match(s, pi); e >= 0 {
			return s, e
		}
		if anchored || s >= len(src) {
			return -1, -1
		}
	}
}

// planScan looks at how the pattern starts, to let scans skip positions
// where a match cannot start. Nothing here can raise an error: errors come
// when matching reaches them, as in Lua.
func (m *Matcher) planScan(pi int) {
	pat := m.pat
	// Opening captures consume nothing: look at the item after them (but
	// not past more than a pattern may open, where Lua raises an error).
	for opened := 0; pi < len(pat) && pat[pi] == '(' && opened < MaxCaptures-1; opened++ {
		pi++
		if pi < len(pat) && pat[pi] == ')' {
			pi++
		}
	}
	q := pi
	for q < len(pat) && isLiteral(pat, q) {
		q++
	}
	if q > pi {
		m.filter, m.prefix = filterPrefix, pat[pi:q]
		return
	}
	if pi >= len(pat) {
		return
	}
	var ep int
	switch pat[pi] {
	case '%':
		if pi+1 >= len(pat) || !isAlnum(pat[pi+1]) || pat[pi+1] == 'b' || pat[pi+1] == 'f' || isDigit(pat[pi+1]) {
			return
		}
		ep = pi + 2
	case '[':
		m.itemEnd = -1 // found on first use, where a missing ']' is an error
		m.filter, m.item = filterItem, pi
		return
	case '(', ')', '.', '$':
		return
	default: // a literal byte with a quantifier
		ep = pi + 1
	}
	if ep < len(pat) && pat[ep] != '+' && isQuantifier(pat[ep]) {
		return
	}
	m.filter, m.item, m.itemEnd = filterItem, pi, ep
}

// isLiteral reports whether pat[q] is an item that matches exactly the byte
// pat[q], once.
func isLiteral(pat string, q int) bool {
	switch pat[q] {
	case '(', ')', '%', '.', '[':
		return false
	case '$':
		if q+1 == len(pat) {
			return false
		}
	}
	return q+1 == len(pat) || !isQuantifier(pat[q+1])
}

func isQuantifier(c byte) bool { return c == '*' || c == '+' || c == '-' || c == '?' }

// skip moves s forward to the next position where a match may start, and
// reports false when there is none.
func (m *Matcher) skip(s int) (int, bool) {
	src := m.src
	switch m.filter {
	case filterPrefix:
		i := strings.Index(src[s:], m.prefix)
		if i < 0 {
			m.charge((len(src)-s)>>4 + 1)
			return s, false
		}
		m.charge(i>>4 + 1)
		return s + i, true
	case filterItem:
		if m.itemEnd < 0 {
			ep := m.classEnd(m.item)
			m.itemEnd = -2 // a set followed by a quantifier other than +
			if ep >= len(m.pat) || m.pat[ep] == '+' || !isQuantifier(m.pat[ep]) {
				m.itemEnd = ep
			}
		}
		if m.itemEnd < 0 {
			return s, true
		}
		i := m.span(s, m.item, m.itemEnd, true)
		m.charge(i - s)
		return i, i < len(src)
	}
	return s, true
}
