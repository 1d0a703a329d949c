package luapattern_test

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// patternPieces are the bits random patterns are made of: every kind of item
// and quantifier, malformed bits included, over a small alphabet so that
// matches are frequent.
var patternPieces = []string{
	"a", "b", "c", " ", ".", "%a", "%d", "%s", "%w", "%p", "%A", "%S", "%.", "%%", "%z",
	"[ab]", "[^a]", "[a-c]", "[%d ]", "[]]", "[^%s]", "[", "]",
	"*", "+", "-", "?", "^", "$", "(", ")", "()", "%1", "%2",
	"%b()", "%bab", "%f[%a]", "%f[%A]", "%f[ ]", "%", "%f", "\x00",
}

var subjectBytes = []byte("aabbc (1) 2 ^$%.]")

// randomCalls makes n calls from a seed.
func randomCalls(n int, seed uint64) []call {
	r := rand.New(rand.NewPCG(seed, 1))
	calls := make([]call, n)
	for i := range calls {
		var p strings.Builder
		for range r.IntN(7) {
			p.WriteString(patternPieces[r.IntN(len(patternPieces))])
		}
		s := make([]byte, r.IntN(14))
		for j := range s {
			s[j] = subjectBytes[r.IntN(len(subjectBytes))]
		}
		c := call{s: string(s), p: p.String()}
		switch r.IntN(4) {
		case 0:
			c.op = "find"
			c.args = []any{r.IntN(len(s)+5) - 3}
			if r.IntN(4) == 0 {
				c.args = append(c.args, true)
			}
		case 1:
			c.op, c.args = "match", []any{r.IntN(len(s)+5) - 3}
		case 2:
			c.op = "gmatch"
		case 3:
			repl := []string{"x", "%0", "<%1>", "%2%1", "%%", "%", "[%1]"}[r.IntN(7)]
			c.op, c.args = "gsub", []any{repl, r.IntN(6) - 1}
		}
		calls[i] = c
	}
	return calls
}

// TestRandomAgainstLua51 runs tens of thousands of random calls through luapattern
// and lua5.1 and compares every result and error.
func TestRandomAgainstLua51(t *testing.T) {
	n, seeds := 20000, uint64(3)
	if testing.Short() {
		n, seeds = 2000, 1
	}
	for seed := range seeds {
		calls := randomCalls(n, seed)
		want := runLua51(t, calls)
		failed := 0
		for i, c := range calls {
			if got := runGo(c, 0); got != want[i] {
				t.Errorf("seed %d: %s\n got: %s\nwant: %s", seed, c.luaLine(), got, want[i])
				if failed++; failed == 20 {
					t.Fatal("too many differences")
				}
			}
		}
	}
}
