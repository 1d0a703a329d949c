package lualib

import (
	"strings"
	"testing"
)

func TestUnquote(t *testing.T) {
	tests := []struct {
		desc, in string
		plus     bool
		want     string
	}{
		{"plain", "abc", false, "abc"},
		{"escapes", "%41%2Fb", false, "A/b"},
		{"lower-case hex", "%c3%a9", false, "\xc3\xa9"},
		{"plus kept without plus", "a+b", false, "a+b"},
		{"plus is space in forms", "a+b", true, "a b"},
		{"bad escape kept", "%zz%4", false, "%zz%4"},
		{"trailing percent", "50%", false, "50%"},
		{"NUL decoded", "a%00b", false, "a\x00b"},
	}
	for _, tt := range tests {
		if got := unquote(tt.in, tt.plus); got != tt.want {
			t.Errorf("%s: unquote(%q, %v) = %q, want %q", tt.desc, tt.in, tt.plus, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		desc, in, safe string
		plus           bool
		want           string
	}{
		{"unreserved kept", "aZ0-_.~", "", false, "aZ0-_.~"},
		{"slash safe by default", "/a b", "/", false, "/a%20b"},
		{"slash encoded", "/a", "", false, "%2Fa"},
		{"bytes", "\xff", "", false, "%FF"},
		{"plus", "a b+c", "", true, "a+b%2Bc"},
		{"request_uri safe set", "/a;b=c,d", "/;=,", false, "/a;b=c,d"},
	}
	for _, tt := range tests {
		if got := quote(tt.in, tt.safe, tt.plus); got != tt.want {
			t.Errorf("%s: quote(%q) = %q, want %q", tt.desc, tt.in, got, tt.want)
		}
	}
}

func TestParseQS(t *testing.T) {
	tests := []struct {
		desc, in string
		want     string // name=value pairs joined by "|"
	}{
		{"empty", "", ""},
		{"repeats in order", "a=1&b=2&a=3", "a=1|b=2|a=3"},
		{"blank and bare", "a=&b", "a=|b="},
		{"empty pairs skipped", "&&a=1&", "a=1"},
		{"decoded", "n%20a=v+w%21", "n a=v w!"},
		{"semicolon is data", "a=1;b=2", "a=1;b=2"},
		{"equals in value", "a=b=c", "a=b=c"},
	}
	for _, tt := range tests {
		var got []string
		parseQS(tt.in, func(n, v string) { got = append(got, n+"="+v) })
		if strings.Join(got, "|") != tt.want {
			t.Errorf("%s: parseQS(%q) = %q, want %q", tt.desc, tt.in, strings.Join(got, "|"), tt.want)
		}
	}
}

func TestParseCookies(t *testing.T) {
	tests := []struct {
		desc, in, want string
	}{
		{"two", "a=1; b=2", "a=1|b=2"},
		{"quoted", `a="x y"`, "a=x y"},
		{"no equals skipped", "flag; a=1", "a=1"},
		{"empty name skipped", "=v; a=1", "a=1"},
		{"spaces trimmed", "  a = 1 ;b=2  ", "a=1|b=2"},
		{"value with equals", "t=a=b", "t=a=b"},
	}
	for _, tt := range tests {
		var got []string
		parseCookies(tt.in, func(n, v string) { got = append(got, n+"="+v) })
		if strings.Join(got, "|") != tt.want {
			t.Errorf("%s: parseCookies(%q) = %q, want %q", tt.desc, tt.in, strings.Join(got, "|"), tt.want)
		}
	}
}

// TestShiftPathInfo uses the cases of CPython's test_wsgiref
// (testSimpleShifts, testNormalizedShifts).
func TestShiftPathInfo(t *testing.T) {
	tests := []struct {
		script, path string
		name         string
		named        bool
		wantScript   string
		wantPath     string
	}{
		{"", "/", "", true, "/", ""},
		{"", "/x", "x", true, "/x", ""},
		{"/", "", "", false, "/", ""},
		{"/a", "/x/y", "x", true, "/a/x", "/y"},
		{"/a", "/x/", "x", true, "/a/x", "/"},
		{"/a/b", "/../y", "..", true, "/a", "/y"},
		{"", "/../y", "..", true, "", "/y"},
		{"/a/b", "//y", "y", true, "/a/b/y", ""},
		{"/a/b", "//y/", "y", true, "/a/b/y", "/"},
		{"/a/b", "/./y", "y", true, "/a/b/y", ""},
		{"/a/b", "/./y/", "y", true, "/a/b/y", "/"},
		{"/a/b", "///./..//y/.//", "..", true, "/a", "/y/"},
		{"/a/b", "///", "", true, "/a/b/", ""},
		{"/a/b", "/.//", "", true, "/a/b/", ""},
		{"/a/b", "/x//", "x", true, "/a/b/x", "/"},
		{"/a/b", "/.", "", false, "/a/b", ""},
	}
	for _, tt := range tests {
		name, named, script, p, _ := shiftPathInfo(tt.script, tt.path)
		if named != tt.named || (named && name != tt.name) || script != tt.wantScript || p != tt.wantPath {
			t.Errorf("shift(%q, %q) = (%q, %v, %q, %q), want (%q, %v, %q, %q)",
				tt.script, tt.path, name, named, script, p, tt.name, tt.named, tt.wantScript, tt.wantPath)
		}
	}
}

func TestAcceptsEncoding(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"gzip", true},
		{"deflate, gzip;q=1.0, *;q=0.5", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"*", true},
		{"*;q=0", false},
		{"*, gzip;q=0", false},
		{"identity", false},
		{"", false},
		{"br, deflate", false},
		{"gzip;q=bogus", false},
	}
	for _, tt := range tests {
		if got := acceptsEncoding(tt.header, "gzip"); got != tt.want {
			t.Errorf("acceptsEncoding(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestStatusLine(t *testing.T) {
	if got := statusLine(404); got != "404 Not Found" {
		t.Errorf("statusLine(404) = %q", got)
	}
	if got := statusLine(299); got != "299 Unknown" {
		t.Errorf("statusLine(299) = %q", got)
	}
}

func TestEscapeHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{`<a href="x">&'`, "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"},
		{"é ü", "é ü"},
	}
	for _, tt := range tests {
		if got := escapeHTML(tt.in); got != tt.want {
			t.Errorf("escapeHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBaseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"photo.png", "photo.png"},
		{`C:\Users\ann\photo.png`, "photo.png"},
		{"dir/sub/photo.png", "photo.png"},
		{"", ""},
		{`trailing\`, ""},
	}
	for _, tt := range tests {
		if got := baseName(tt.in); got != tt.want {
			t.Errorf("baseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
