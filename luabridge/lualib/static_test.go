package lualib

import (
	"testing"
	"time"
)

func TestCleanRel(t *testing.T) {
	tests := []struct {
		desc, rel string
		want      string
		wantDir   bool
		reason    string
	}{
		{"file", "/css/a.css", "css/a.css", false, ""},
		{"root slash", "/", "", true, ""},
		{"mount without slash", "", "", false, staticDirectory},
		{"directory", "/sub/", "sub", true, ""},
		{"dot dot", "/../x", "", false, staticForbidden},
		{"inner dot dot", "/a/../../x", "", false, staticForbidden},
		{"encoded dot dot", "/%2e%2e/x", "", false, staticForbidden},
		{"encoded upper", "/%2E%2E/x", "", false, staticForbidden},
		{"encoded slash dot dot", "/a%2f..%2fx", "", false, staticForbidden},
		{"dot", "/./x", "", false, staticForbidden},
		{"empty segment", "//x", "", false, staticForbidden},
		{"backslash", "/..\\x", "", false, staticForbidden},
		{"encoded backslash", "/..%5cx", "", false, staticForbidden},
		{"NUL", "/a\x00.txt", "", false, staticForbidden},
		{"hidden", "/.env", "", false, staticForbidden},
		{"hidden dir", "/.git/config", "", false, staticForbidden},
		{"literal percent", "/100%.txt", "100%.txt", false, ""},
		{"no leading slash", "x", "", false, staticNotFound},
	}
	for _, tt := range tests {
		got, dir, reason := cleanRel(tt.rel)
		if got != tt.want || dir != tt.wantDir || reason != tt.reason {
			t.Errorf("%s: cleanRel(%q) = (%q, %v, %q), want (%q, %v, %q)", tt.desc, tt.rel, got, dir, reason, tt.want, tt.wantDir, tt.reason)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		header        string
		size          int64
		want          byteRange
		ok, unsatisfy bool
	}{
		{"bytes=0-4", 20, byteRange{0, 5}, true, false},
		{"bytes=5-", 20, byteRange{5, 15}, true, false},
		{"bytes=-5", 20, byteRange{15, 5}, true, false},
		{"bytes=-50", 20, byteRange{0, 20}, true, false},
		{"bytes=10-100", 20, byteRange{10, 10}, true, false},
		{"BYTES=0-0", 20, byteRange{0, 1}, true, false},
		{"bytes=20-", 20, byteRange{}, true, true},
		{"bytes=-0", 20, byteRange{}, true, true},
		{"bytes=0-", 0, byteRange{}, true, true},
		{"bytes=5-2", 20, byteRange{}, false, false},
		{"bytes=0-1,3-4", 20, byteRange{}, false, false},
		{"bytes=a-b", 20, byteRange{}, false, false},
		{"bytes=+1-2", 20, byteRange{}, false, false},
		{"items=0-1", 20, byteRange{}, false, false},
		{"bytes=", 20, byteRange{}, false, false},
	}
	for _, tt := range tests {
		got, ok, uns := parseRange(tt.header, tt.size)
		if got != tt.want || ok != tt.ok || uns != tt.unsatisfy {
			t.Errorf("parseRange(%q, %d) = (%v, %v, %v), want (%v, %v, %v)", tt.header, tt.size, got, ok, uns, tt.want, tt.ok, tt.unsatisfy)
		}
	}
}

func TestNoneMatchAndIfRange(t *testing.T) {
	etag := `"abc-1"`
	for header, want := range map[string]bool{
		`"abc-1"`:            true,
		`W/"abc-1"`:          true,
		`"x", "abc-1"`:       true,
		`"x",W/"abc-1"`:      true,
		`*`:                  true,
		`"abc-2"`:            false,
		`abc-1`:              false,
		`"abc-1`:             false,
		`"x, "abc-1"`:        false,
		`"has,comma", "zzz"`: false,
	} {
		if got := noneMatch(header, etag); got != want {
			t.Errorf("noneMatch(%q) = %v, want %v", header, got, want)
		}
	}
	mod := time.Date(2024, 5, 1, 10, 0, 0, 500, time.UTC)
	for header, want := range map[string]bool{
		"":                              true,
		`"abc-1"`:                       true,
		`W/"abc-1"`:                     false,
		`"other"`:                       false,
		"Wed, 01 May 2024 10:00:00 GMT": true,
		"Wed, 01 May 2024 10:00:01 GMT": false,
		"not a date":                    false,
	} {
		if got := ifRangeAllows(header, etag, mod); got != want {
			t.Errorf("ifRangeAllows(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.css": "text/css; charset=utf-8", "a.HTML": "text/html; charset=utf-8", "a.png": "image/png",
		"a.unknownext": "application/octet-stream", "noext": "application/octet-stream",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}
