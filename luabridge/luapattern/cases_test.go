package luapattern_test

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/luabridge/luapattern"
)

var update = flag.Bool("update", false, "rewrite testdata/cases.golden from lua5.1")

const goldenFile = "testdata/cases.golden"

// cases are calls whose results testdata/cases.golden holds, as lua5.1 gave
// them (go test -run TestCases -update rewrites the file).
var cases = []struct {
	desc string
	call
}{
	// Plain text and find's fast path.
	{"find plain word", call{"find", "hello world", "world", nil}},
	{"find plain missing", call{"find", "hello world", "xyz", nil}},
	{"find empty pattern", call{"find", "abc", "", nil}},
	{"find empty pattern past end", call{"find", "abc", "", []any{10}}},
	{"find empty pattern at end", call{"find", "abc", "", []any{4}}},
	{"find empty pattern far before start", call{"find", "abc", "", []any{-10}}},
	{"find init zero", call{"find", "abc", "b", []any{0}}},
	{"find init negative", call{"find", "abc", "b", []any{-2}}},
	{"find init negative last", call{"find", "abc", "b", []any{-1}}},
	{"find init beyond", call{"find", "abc", "c", []any{10}}},
	{"find plain flag with specials", call{"find", "a.b(c", ".b(", []any{1, true}}},
	{"find plain flag false", call{"find", "a.b", ".", []any{1, false}}},
	{"find plain flag nil init", call{"find", "a+b", "+", []any{nil, true}}},
	{"find close paren is plain", call{"find", "a)", ")", nil}},
	{"find zero byte plain", call{"find", "a\x00b", "\x00", nil}},
	{"find zero byte after specials", call{"find", "ab\x00.b", "b.\x00", nil}},
	{"find zero byte before specials", call{"find", "a\x00.b", "\x00.", nil}},
	{"find specials after zero byte ignored", call{"find", "x\x00.", "x\x00.", nil}},
	{"find longer than subject", call{"find", "ab", "abc", nil}},
	// Classes.
	{"find digits", call{"find", "abc 123 def", "%d+", nil}},
	{"find letters", call{"find", "123abc456", "%a+", nil}},
	{"find space", call{"find", "a \t\n\v\f\rb", "%s+", nil}},
	{"find punct", call{"find", "abc!?def", "%p+", nil}},
	{"find control", call{"find", "ab\x01\x1f\x7fc", "%c+", nil}},
	{"find lower", call{"find", "ABCdefGHI", "%l+", nil}},
	{"find upper", call{"find", "abcDEFghi", "%u+", nil}},
	{"find alnum", call{"find", "--ab12--", "%w+", nil}},
	{"find hex", call{"find", "xyz09afAFg", "%x+", nil}},
	{"find zero class", call{"find", "ab\x00c", "%z", nil}},
	{"find not zero", call{"find", "\x00\x00ab", "%Z+", nil}},
	{"find complement digit", call{"find", "123abc", "%D+", nil}},
	{"find complement space", call{"find", "  ab  ", "%S+", nil}},
	{"find complement alpha", call{"find", "abc123", "%A+", nil}},
	{"find high bytes are no letters", call{"find", "\xe9t\xe9", "%a+", nil}},
	{"find high bytes are not punct", call{"find", "\xe9!", "%p", nil}},
	{"find unknown class letter", call{"find", "abcg", "%g", nil}},
	{"find unknown upper letter", call{"find", "abcG", "%G", nil}},
	{"find escaped dot", call{"find", "a.b", "%.", nil}},
	{"find escaped percent", call{"find", "50%", "%%", nil}},
	{"find dot", call{"find", "abc", ".", []any{2}}},
	// Sets.
	{"find set", call{"find", "xxabcxx", "[abc]+", nil}},
	{"find set range", call{"find", "XYZmnoXYZ", "[a-z]+", nil}},
	{"find set negated", call{"find", "aaabbb", "[^a]+", nil}},
	{"find set with class", call{"find", "ab12_", "[%d_]+", nil}},
	{"find set close bracket first", call{"find", "a]b", "[]]", nil}},
	{"find set negated close bracket first", call{"find", "]]a", "[^]]", nil}},
	{"find set trailing dash", call{"find", "x-a", "[a-]", nil}},
	{"find set leading dash", call{"find", "x-a", "[-a]+", nil}},
	{"find set caret not first", call{"find", "x^", "[x^]+", nil}},
	{"find set escaped bracket", call{"find", "a]b", "[%]]", nil}},
	{"find set class then dash", call{"find", "a-c", "[%a-c]+", nil}},
	{"find set negated caret", call{"find", "^x", "[^^]", nil}},
	{"find set range of specials", call{"find", "a+,-b", "[+--]+", nil}},
	{"find set unclosed", call{"find", "abc", "[a", nil}},
	{"find set empty is unclosed", call{"find", "a", "[]", nil}},
	{"find set negated empty is unclosed", call{"find", "a", "[^]", nil}},
	{"find set ending with escape", call{"find", "a", "[a%", nil}},
	{"find set escaped close only", call{"find", "a", "[a%]", nil}},
	{"find unclosed set never reached", call{"find", "", "x[", nil}},
	{"find unclosed set reached late", call{"find", "xxxa", "a[", nil}},
	// Quantifiers.
	{"find star greedy", call{"find", "aaab", "a*", nil}},
	{"find star backtracks", call{"find", "aaab", "a*ab", nil}},
	{"find plus needs one", call{"find", "bbb", "a+", nil}},
	{"find minus lazy", call{"find", "<a><b>", "<.->", nil}},
	{"find minus to end", call{"find", "aaa", "a-$", nil}},
	{"find optional", call{"find", "color colour", "colou?r", []any{2}}},
	{"find optional backtracks", call{"find", "ab", "a?ab", nil}},
	{"find quantifier as first literal", call{"find", "a*b", "*", []any{1}}},
	{"find caret star", call{"find", "a", "^*", nil}},
	{"find double star", call{"find", "a", "a**", nil}},
	{"find star after star literal", call{"find", "a**", "a**", nil}},
	{"find dot star", call{"find", "key=value", ".*=", nil}},
	{"find dot minus", call{"find", "key=value=x", ".-=", nil}},
	{"find set star", call{"find", "  abc", "[ ]*", nil}},
	{"find class minus", call{"find", "123abc", "%d-a", nil}},
	// Anchors.
	{"find anchored", call{"find", "abc", "^abc", nil}},
	{"find anchored fails later", call{"find", "xabc", "^abc", nil}},
	{"find anchored at init", call{"find", "xabc", "^abc", []any{2}}},
	{"find end anchor", call{"find", "abcabc", "abc$", nil}},
	{"find dollar mid pattern", call{"find", "ab$c", "b$c", nil}},
	{"find caret mid pattern", call{"find", "ab^c", "b^c", nil}},
	{"find only caret", call{"find", "abc", "^", nil}},
	{"find only dollar", call{"find", "abc", "$", nil}},
	{"find caret dollar empty", call{"find", "", "^$", nil}},
	{"find escaped dollar at end", call{"find", "a$", "a%$", nil}},
	// Captures.
	{"find with captures", call{"find", "key = value", "(%w+)%s*=%s*(%w+)", nil}},
	{"find position captures", call{"find", "hello", "()ll()", nil}},
	{"find nested captures", call{"find", "abcd", "((a)(b))", nil}},
	{"find unfinished capture", call{"find", "abc", "(a", nil}},
	{"find unfinished with position", call{"find", "a", "(()", nil}},
	{"find unopened capture", call{"find", "a)", "a)", nil}},
	{"find back reference", call{"find", "say 'hi' or \"yo\"", "([\"'])(.-)%1", nil}},
	{"find back reference to position", call{"find", "abab", "()%1", nil}},
	{"find back reference invalid", call{"find", "aa", "(a)%2", nil}},
	{"find back reference zero", call{"find", "aa", "(a)%0", nil}},
	{"find back reference unclosed", call{"find", "aa", "(a%1)", nil}},
	{"find back reference none", call{"find", "a", "%1", nil}},
	{"find repeated word", call{"find", "the the cat", "(%a+) %1", nil}},
	{"find 32 captures", call{"find", "abc", strings.Repeat("()", 32), nil}},
	{"find 33 captures", call{"find", "abc", strings.Repeat("()", 33), nil}},
	{"find many captures never reached", call{"find", "abc", "x" + strings.Repeat("()", 33), nil}},
	// Balance and frontier.
	{"find balanced", call{"find", "f(a(b)c)d", "%b()", nil}},
	{"find balanced unclosed", call{"find", "f(a(b c", "%b()", nil}},
	{"find balanced same delimiters", call{"find", "x'a'b'", "%b''", nil}},
	{"find balanced brackets", call{"find", "[[x]]", "%b[]", nil}},
	{"find balance missing delimiters", call{"find", "abc", "%b", nil}},
	{"find balance one delimiter", call{"find", "a(", "%b(", nil}},
	{"find frontier word", call{"find", "THE (quick) fox", "%f[%a]%a+", nil}},
	{"find frontier word from init", call{"find", "THE (quick) fox", "%f[%a]%a+", []any{5}}},
	{"find frontier at end", call{"find", "a", "%f[%z]", nil}},
	{"find frontier word end", call{"find", "ab cd", "%a%f[%A]", nil}},
	{"find frontier missing bracket", call{"find", "a", "%fa", nil}},
	{"find frontier at pattern end", call{"find", "a", "%f", nil}},
	{"find frontier unclosed set", call{"find", "a", "a%f[]", nil}},
	{"find frontier negated", call{"find", "aa  bb", "%f[^%s]%S+", []any{2}}},
	// Malformed patterns.
	{"find ends with percent", call{"find", "a", "%", nil}},
	{"find ends with percent after literal", call{"find", "a%", "a%", nil}},
	{"find ends with percent never reached", call{"find", "b", "a%", nil}},
	{"find open paren only", call{"find", "a", "(", nil}},
	{"find escape of close bracket in set", call{"find", "a", "[a-%]", nil}},
	{"find zero byte cuts pattern", call{"find", "ab\x00xb", ".\x00x", nil}},
	// match.
	{"match whole", call{"match", "hello", ".+", nil}},
	{"match no captures gives whole", call{"match", "abc 123", "%d+", nil}},
	{"match two captures", call{"match", "key = value", "(%w+)%s*=%s*(%w+)", nil}},
	{"match trim", call{"match", "  x y  ", "^%s*(.-)%s*$", nil}},
	{"match position capture", call{"match", "abc", "()", []any{10}}},
	{"match position and text", call{"match", "abc", "()(b)()", nil}},
	{"match init negative", call{"match", "abcabc", "b", []any{-2}}},
	{"match no match", call{"match", "abc", "x", nil}},
	{"match plain text is a pattern", call{"match", "a)", ")", nil}},
	{"match zero byte is end of pattern", call{"match", "a\x00b", "\x00", nil}},
	{"match anchored with init", call{"match", "abc", "^b", []any{2}}},
	{"match empty subject", call{"match", "", ".*", nil}},
	{"match date", call{"match", "on 2024-02-29 at", "(%d+)-(%d%d)-(%d%d)", nil}},
	{"match long alternation-like", call{"match", "aaaaaaaaaaaaaaaaaaaab", "a-a-a-b", nil}},
	{"match optional chain", call{"match", strings.Repeat("a", 16), strings.Repeat("a?", 16) + strings.Repeat("a", 16), nil}},
	// gmatch.
	{"gmatch words", call{"gmatch", "one two  three", "%a+", nil}},
	{"gmatch pairs", call{"gmatch", "a=1, b=2", "(%w+)=(%w+)", nil}},
	{"gmatch empty matches", call{"gmatch", "abc", "", nil}},
	{"gmatch star", call{"gmatch", "abc", "b*", nil}},
	{"gmatch caret is literal", call{"gmatch", "^a^a", "^a", nil}},
	{"gmatch caret no match", call{"gmatch", "abc", "^a", nil}},
	{"gmatch positions", call{"gmatch", "abc", "()", nil}},
	{"gmatch error", call{"gmatch", "abc", "[a", nil}},
	{"gmatch dollar", call{"gmatch", "abc", "$", nil}},
	{"gmatch frontier words", call{"gmatch", "THE (quick) fox", "%f[%a]%a+", nil}},
	// gsub.
	{"gsub spaces", call{"gsub", "a  b   c", "%s+", []any{" "}}},
	{"gsub whole match", call{"gsub", "hello world", "%w+", []any{"<%0>"}}},
	{"gsub swap", call{"gsub", "hello world", "(%w+) (%w+)", []any{"%2 %1"}}},
	{"gsub percent", call{"gsub", "a.b", "%.", []any{"%%"}}},
	{"gsub percent letter", call{"gsub", "a.b", "%.", []any{"%x"}}},
	{"gsub trailing percent", call{"gsub", "a", ".", []any{"%"}}},
	{"gsub one without captures", call{"gsub", "abc", "%w", []any{"%1"}}},
	{"gsub two without captures", call{"gsub", "abc", "b", []any{"%2"}}},
	{"gsub capture index too big", call{"gsub", "abc", "(b)", []any{"%2"}}},
	{"gsub bad index never used", call{"gsub", "abc", "x", []any{"%2"}}},
	{"gsub position capture", call{"gsub", "abc", "()", []any{"%1"}}},
	{"gsub empty pattern", call{"gsub", "abc", "", []any{"-"}}},
	{"gsub anchored", call{"gsub", "abc", "^", []any{"-"}}},
	{"gsub anchored once", call{"gsub", "aaa", "^a", []any{"-"}}},
	{"gsub end", call{"gsub", "abc", "$", []any{"-"}}},
	{"gsub star", call{"gsub", "abc", "b*", []any{"-"}}},
	{"gsub max", call{"gsub", "abc", "b*", []any{"-", 2}}},
	{"gsub max zero", call{"gsub", "abc", "%w", []any{"-", 0}}},
	{"gsub max negative", call{"gsub", "abc", "b*", []any{"-", -1}}},
	{"gsub no match", call{"gsub", "abc", "x", []any{"-"}}},
	{"gsub unfinished capture", call{"gsub", "abc", "(", []any{"%1"}}},
	{"gsub zero in replacement", call{"gsub", "ab", "a", []any{"x\x00y"}}},
	{"gsub zero in subject", call{"gsub", "a\x00b", "%z", []any{"Z"}}},
	{"gsub all", call{"gsub", "hello", ".", []any{"%0%0"}}},
	{"gsub frontier", call{"gsub", "THE (quick) fox", "%f[%a]%a+%f[%A]", []any{"X"}}},
	{"gsub empty subject", call{"gsub", "", "", []any{"x"}}},
	{"gsub malformed", call{"gsub", "abc", "%", []any{"x"}}},
	{"gsub balanced", call{"gsub", "f(a) g(b(c))", "%b()", []any{"[]"}}},
	{"gsub back reference", call{"gsub", "aa bb cd", "(%a)%1", []any{"<%1>"}}},
}

func TestCases(t *testing.T) {
	calls := make([]call, len(cases))
	for i, c := range cases {
		calls[i] = c.call
	}
	if *update {
		writeGolden(t, calls)
	}
	want := readGolden(t)
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w, ok := want[c.desc]
			if !ok {
				t.Fatalf("no expectation in %s: run go test -run TestCases -update", goldenFile)
			}
			if got := runGo(c.call, 0); got != w {
				t.Errorf("%s\n got: %s\nwant: %s", c.luaLine(), got, w)
			}
		})
	}
}

// TestGoldenIsCurrent checks testdata/cases.golden against lua5.1 itself.
func TestGoldenIsCurrent(t *testing.T) {
	calls := make([]call, len(cases))
	for i, c := range cases {
		calls[i] = c.call
	}
	lines := runLua51(t, calls)
	want := readGolden(t)
	for i, c := range cases {
		if want[c.desc] != lines[i] {
			t.Errorf("%s: %s says %q, lua5.1 says %q: run go test -run TestCases -update", c.desc, goldenFile, want[c.desc], lines[i])
		}
	}
}

func writeGolden(t *testing.T, calls []call) {
	t.Helper()
	lines := runLua51(t, calls)
	var b strings.Builder
	b.WriteString("# Results of lua5.1 for the cases in cases_test.go: description, tab, results.\n")
	b.WriteString("# Rewrite with: go test ./luabridge/luapattern -run TestCases -update\n")
	seen := map[string]bool{}
	for i, c := range cases {
		if seen[c.desc] {
			t.Fatalf("duplicate case %q", c.desc)
		}
		seen[c.desc] = true
		b.WriteString(c.desc + "\t" + lines[i] + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v: run go test -run TestCases -update", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		desc, result, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", goldenFile, line)
		}
		want[desc] = result
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

// The errors keep Lua's wording behind the package prefix.
func TestErrorWording(t *testing.T) {
	var m luapattern.Matcher
	_, _, err := m.Find("a", "%", 0)
	e, ok := err.(*luapattern.Error)
	if !ok || e.Msg != "malformed pattern (ends with '%')" || e.Error() != "luapattern: malformed pattern (ends with '%')" {
		t.Fatalf("got %#v", err)
	}
}
