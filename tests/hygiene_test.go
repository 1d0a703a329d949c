package tests

import (
	"bytes"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGofmt fails on any Go file of the module that gofmt would change.
func TestGofmt(t *testing.T) {
	if os.Getenv("LSGI_TEST_BINARY") != "" {
		t.Skip("checked by the first run of the suite")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		formatted, err := format.Source(src)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		if !bytes.Equal(src, formatted) {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("gofmt would change %s (run gofmt -w %s)", rel, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGoVet runs go vet over the whole module: go test runs only a few of
// its checks on each package.
func TestGoVet(t *testing.T) {
	if testing.Short() {
		t.Skip("go vet ./... is skipped in -short mode")
	}
	if os.Getenv("LSGI_TEST_BINARY") != "" {
		t.Skip("vetted by the first run of the suite")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	vet := exec.Command(goTool(), "vet", "./...")
	vet.Dir = root
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("go vet ./...: %v\n%s", err, out)
	}
}
