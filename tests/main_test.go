package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binPath is the lsgi binary built by TestMain.
var binPath string

// raceEnabled is set by race_test.go when the tests run with -race; the
// binary is then built with -race as well, and a data race it reports fails
// the test that ran it.
var raceEnabled bool

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "lsgi-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	// A run on the second engine reuses the binary its parent built.
	if binPath = os.Getenv("LSGI_TEST_BINARY"); binPath == "" {
		binPath = filepath.Join(dir, "lsgi")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/lsgi")
		build := exec.Command(goTool(), args...)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "tests: go %v: %v\n%s", args, err, out)
			return 1
		}
	}
	chosen := testEngine != ""
	if !chosen {
		if testEngine, err = defaultEngine(); err != nil {
			fmt.Fprintln(os.Stderr, "tests:", err)
			return 1
		}
	}
	code := m.Run()
	if code != 0 || chosen || testing.Short() {
		return code
	}
	// Every behaviour holds on both of lsgi serve's HTTP engines: unless
	// LSGI_TEST_ENGINE picked one, the suite runs again on the other, in a
	// child process with the same flags and the binary already built.
	return runOnEngine(otherEngine(testEngine), binPath)
}

// otherEngine is the HTTP engine that is not engine.
func otherEngine(engine string) string {
	if engine == "std" {
		return "fast"
	}
	return "std"
}

// runOnEngine runs this test binary again, with its own arguments, on engine
// and the lsgi binary at bin, and returns its exit code.
func runOnEngine(engine, bin string) int {
	fmt.Printf("tests: the suite again on lsgi serve --engine %s\n", engine)
	child := exec.Command(os.Args[0], childArgs(os.Args[1:])...)
	child.Env = append(os.Environ(), "LSGI_TEST_ENGINE="+engine, "LSGI_TEST_BINARY="+bin)
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	return 0
}

// moduleRoot walks up from the working directory to the folder that holds
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// goTool finds the go command: on PATH, or under GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// childArgs are the test binary's flags without those that name an output
// file: the child must not overwrite its parent's test log or profiles.
func childArgs(args []string) []string {
	var kept []string
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		switch name {
		case "test.testlogfile", "test.coverprofile", "test.gocoverdir", "test.cpuprofile",
			"test.memprofile", "test.blockprofile", "test.mutexprofile", "test.trace", "test.outputdir":
			continue
		}
		kept = append(kept, arg)
	}
	return kept
}
