package appfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

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
		{"static/up.txt", "", ErrOutside},
		{"static/abs.txt", "", ErrOutside},
		{"static/sub/escape.txt", "", ErrOutside},
		{"static/missing.txt", "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		got, err := Resolve(fsys, "static", tt.name)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Resolve(%q) error = %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := Resolve(fsys, "static", "static/loop"); err == nil {
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
		_, err := Resolve(fsys, "static", name)
		if (err != nil) != wantErr {
			t.Errorf("Resolve(%q) error = %v, want error %v", name, err, wantErr)
		}
	}
}
