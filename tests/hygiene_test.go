package tests

import (
	"bytes"
	"context"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	skipModuleCheck(t)
	runGo(t, 5*time.Minute, "vet", "./...")
}

// skipModuleCheck skips t, a check of the whole module, in -short mode and
// in the suite's second run (on the other engine), which the first has
// checked already.
func skipModuleCheck(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a check of the whole module: skipped in -short mode")
	}
	if os.Getenv("LSGI_TEST_BINARY") != "" {
		t.Skip("checked by the first run of the suite")
	}
}

// runGo runs the go command with args in the module's root, within
// timeout, fails t with its output if it fails, and returns the output.
func runGo(t *testing.T, timeout time.Duration, args ...string) []byte {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
