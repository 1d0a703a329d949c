package lualib

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
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

func TestResolveLinksMapFS(t *testing.T) {
	fsys := fstest.MapFS{
		"static/a.css":          {Data: []byte("a")},
		"static/alias.css":      {Data: []byte("a.css"), Mode: fs.ModeSymlink},
		"static/chain.css":      {Data: []byte("alias.css"), Mode: fs.ModeSymlink},
		"static/sub/x.txt":      {Data: []byte("x")},
		"static/subdir":         {Data: []byte("sub"), Mode: fs.ModeSymlink},
		"static/up.txt":         {Data: []byte("../secret.txt"), Mode: fs.ModeSymlink},
		"static/abs.txt":        {Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink},
		"static/loop":           {Data: []byte("loop"), Mode: fs.ModeSymlink},
		"static/sub/back.txt":   {Data: []byte("../a.css"), Mode: fs.ModeSymlink},
		"static/sub/escape.txt": {Data: []byte("../../secret.txt"), Mode: fs.ModeSymlink},
		"secret.txt":            {Data: []byte("secret")},
	}
	tests := []struct {
		name, want string
		err        error
	}{
		{"static/a.css", "static/a.css", nil},
		{"static/alias.css", "static/a.css", nil},
		{"static/chain.css", "static/a.css", nil},
		{"static/subdir/x.txt", "static/sub/x.txt", nil},
		{"static/sub/back.txt", "static/a.css", nil},
		{"static/up.txt", "", errOutside},
		{"static/abs.txt", "", errOutside},
		{"static/sub/escape.txt", "", errOutside},
		{"static/missing.txt", "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		got, err := resolveLinks(fsys, "static", tt.name)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("resolveLinks(%q) error = %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolveLinks(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := resolveLinks(fsys, "static", "static/loop"); err == nil {
		t.Error("a symlink loop must fail")
	}
}

// TestResolveLinksDirFS checks the same rules on a real directory, the FS
// the host passes in.
func TestResolveLinksDirFS(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	if err := os.MkdirAll(filepath.Join(app, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "outside.txt"), []byte("out"), 0o644)
	os.WriteFile(filepath.Join(app, "static", "in.txt"), []byte("in"), 0o644)
	os.Symlink("../../outside.txt", filepath.Join(app, "static", "rel.txt"))
	os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(app, "static", "abs.txt"))
	os.Symlink("in.txt", filepath.Join(app, "static", "ok.txt"))
	fsys := os.DirFS(app)
	for name, wantErr := range map[string]bool{
		"static/in.txt": false, "static/ok.txt": false, "static/rel.txt": true, "static/abs.txt": true,
	} {
		_, err := resolveLinks(fsys, "static", name)
		if (err != nil) != wantErr {
			t.Errorf("resolveLinks(%q) error = %v, want error %v", name, err, wantErr)
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
