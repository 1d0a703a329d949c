package luapattern_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/luabridge/luapattern"
	"github.com/yuin/gopher-lua/pm"
)

// The benchmarks run typical patterns over 1 KB subjects through luapattern
// and through gopher-lua's own matcher (package pm), which the string
// library of gopher-lua uses. Compare the two sub-benchmarks of each.

var (
	// words: 1 KB of words and spaces, a number at the very end.
	benchWords = strings.Repeat("lorem  ipsum dolor\tsit amet ", 37)[:1020] + " 42"
	// keyValue: one 1 KB line "key=value".
	benchKeyValue = strings.Repeat("k", 500) + "=" + strings.Repeat("v", 523)
)

func BenchmarkFind(b *testing.B) {
	benchFind(b, benchWords, "%d+")
}

func BenchmarkFindLiteralPrefix(b *testing.B) {
	benchFind(b, benchWords, " 4%d")
}

func BenchmarkMatchAnchored(b *testing.B) {
	benchFind(b, benchKeyValue, "^(%w+)=(%w+)$")
}

func BenchmarkMatchBacktracking(b *testing.B) {
	benchFind(b, benchWords, "(%a+)%s+(%a+)%s*42")
}

// benchFind finds the first match of p in s, with its captures.
func benchFind(b *testing.B, s, p string) {
	b.Run("luapattern", func(b *testing.B) {
		var m luapattern.Matcher
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			m.Reset(context.Background(), 0)
			start, _, err := m.Find(s, p, 0)
			if err != nil || start < 0 {
				b.Fatalf("no match: %v", err)
			}
		}
	})
	b.Run("gopher-lua-pm", func(b *testing.B) {
		src := []byte(s)
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			md, err := pm.Find(p, src, 0, 1)
			if err != nil || len(md) == 0 {
				b.Fatalf("no match: %v", err)
			}
		}
	})
}

func BenchmarkGsub(b *testing.B) {
	benchGsub(b, benchWords, "%s+", " ")
}

func BenchmarkGsubCaptures(b *testing.B) {
	benchGsub(b, benchWords, "(%a+) (%a+)", "%2 %1")
}

// benchGsub replaces every match of p in s with the template repl, building
// the result for both matchers.
func benchGsub(b *testing.B, s, p, repl string) {
	b.Run("luapattern", func(b *testing.B) {
		var m luapattern.Matcher
		expand := func(dst []byte, start, end int) ([]byte, error) {
			return m.Expand(dst, repl, start, end, 0)
		}
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			m.Reset(context.Background(), 0)
			if _, n, err := m.Gsub(s, p, len(s)+1, 0, expand); err != nil || n == 0 {
				b.Fatalf("no match: %v", err)
			}
		}
	})
	b.Run("gopher-lua-pm", func(b *testing.B) {
		src := []byte(s)
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			mds, err := pm.Find(p, src, 0, -1)
			if err != nil || len(mds) == 0 {
				b.Fatalf("no match: %v", err)
			}
			_ = pmExpand(s, repl, mds)
		}
	})
}

// pmExpand builds gsub's result from pm's matches, expanding %0-%9 and %%
// as Lua does, so that both sub-benchmarks do the same work.
func pmExpand(s, repl string, mds []*pm.MatchData) string {
	out := make([]byte, 0, len(s))
	prev := 0
	for _, md := range mds {
		start, end := md.Capture(0), md.Capture(1)
		out = append(out, s[prev:start]...)
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != '%' || i+1 == len(repl) {
				out = append(out, c)
				continue
			}
			i++
			d := repl[i]
			switch {
			case d == '0':
				out = append(out, s[start:end]...)
			case d >= '1' && d <= '9':
				k := 2 * int(d-'0')
				if k+1 < md.CaptureLength() {
					out = append(out, s[md.Capture(k):md.Capture(k+1)]...)
				}
			default:
				out = append(out, d)
			}
		}
		prev = end
	}
	return string(append(out, s[prev:]...))
}
