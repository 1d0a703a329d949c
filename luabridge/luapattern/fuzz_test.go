package luapattern_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/luabridge/luapattern"
)

// fuzzBudget keeps each fuzzed call short; going past it is a valid outcome.
const fuzzBudget = 50_000

// FuzzMatch checks what must hold for any subject and pattern: no panic,
// only Lua's errors or the budget's, the budget never overrun, matches and
// captures inside the subject, an anchored match where it was asked for, and
// find, gmatch and gsub agreeing on the same matches.
func FuzzMatch(f *testing.F) {
	for _, seed := range []struct {
		s, p string
		init int
	}{
		{"hello world", "%w+", 0},                        // a class repeated
		{"key = value", "^(%w+)%s*=%s*(%w+)$", 0},        // anchors and captures
		{"f(a(b)c)d", "%b()", 2},                         // balance, from inside
		{"THE (quick) fox", "%f[%a]%a+", 0},              // frontier
		{"say 'hi'", "([\"'])(.-)%1", 0},                 // back-reference
		{"abc", "()", 3},                                 // position capture at the end
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ".-.-.-b", 0}, // backtracking past the budget
		{"abc", "[a", 0},                                 // malformed
		{"a\x00b", "%z", 0},                              // the zero byte
		{"", "", 0},                                      // empty everything
	} {
		f.Add(seed.s, seed.p, seed.init)
	}
	f.Fuzz(func(t *testing.T, s, p string, init int) {
		if init < 0 || init > len(s) {
			init = luapattern.StartIndex(init, len(s))
		}
		var m luapattern.Matcher
		m.Reset(context.Background(), fuzzBudget)
		start, end, err := m.Find(s, p, init)
		checkOutcome(t, &m, err)
		if err != nil {
			return
		}
		if start >= 0 {
			checkMatch(t, &m, s, init, start, end)
			if strings.HasPrefix(p, "^") && start != init {
				t.Fatalf("anchored match at %d, not at init %d", start, init)
			}
		}
		if strings.HasPrefix(p, "^") {
			return // gmatch reads '^' as itself
		}
		compareGmatch(t, s, p, init, start, end)
		compareGsub(t, s, p)
	})
}

// checkOutcome checks the error kind and the budget.
func checkOutcome(t *testing.T, m *luapattern.Matcher, err error) {
	t.Helper()
	if m.Steps() > fuzzBudget {
		t.Fatalf("took %d steps, budget %d", m.Steps(), fuzzBudget)
	}
	var perr *luapattern.Error
	if err != nil && !errors.Is(err, luapattern.ErrBudget) && !errors.As(err, &perr) {
		t.Fatalf("unexpected error %v", err)
	}
}

// checkMatch checks a match and its captures lie in the subject.
func checkMatch(t *testing.T, m *luapattern.Matcher, s string, init, start, end int) {
	t.Helper()
	if start < init || end < start || end > len(s) {
		t.Fatalf("match [%d,%d) outside [%d,%d]", start, end, init, len(s))
	}
	for i := range m.Captures() {
		c, err := m.Capture(i, start, end)
		if err != nil {
			continue // an unfinished capture is Lua's error, raised when it is read
		}
		if c.Start < 0 || c.End < c.Start || c.End > len(s) || (c.Position && c.Start != c.End) {
			t.Fatalf("capture %d = %+v outside the subject of %d bytes", i, c, len(s))
		}
	}
}

// compareGmatch checks that gmatch's first match from init is find's.
func compareGmatch(t *testing.T, s, p string, init, start, end int) {
	t.Helper()
	var m luapattern.Matcher
	m.Reset(context.Background(), fuzzBudget)
	gs, ge, err := m.Gmatch(s, p, init)
	checkOutcome(t, &m, err)
	if err == nil && (gs != start || ge != end) {
		t.Fatalf("gmatch found [%d,%d), find [%d,%d)", gs, ge, start, end)
	}
}

// compareGsub checks that gsub with "%0" gives the subject back and counts
// the matches gmatch iterates over.
func compareGsub(t *testing.T, s, p string) {
	t.Helper()
	var m luapattern.Matcher
	m.Reset(context.Background(), fuzzBudget)
	out, n, err := m.Gsub(s, p, len(s)+1, 0, func(dst []byte, start, end int) ([]byte, error) {
		return m.Expand(dst, "%0", start, end, 0)
	})
	checkOutcome(t, &m, err)
	if err != nil {
		return
	}
	if out != s {
		t.Fatalf("gsub with %%0 gave %q for %q", out, s)
	}
	var g luapattern.Matcher
	g.Reset(context.Background(), fuzzBudget)
	count := 0
	for pos := 0; pos <= len(s); count++ {
		start, end, err := g.Gmatch(s, p, pos)
		checkOutcome(t, &g, err)
		if err != nil {
			return
		}
		if start < 0 {
			break
		}
		if pos = end; end == start {
			pos++
		}
	}
	if count != n {
		t.Fatalf("gsub counted %d matches, gmatch %d", n, count)
	}
}
