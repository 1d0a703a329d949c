package tests

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// fuzzTargets are the fuzz targets that guard the host against hostile
// input: the pattern matcher under its step budget, the source-depth check
// in front of the compiler, and the template fast path against
// html/template.
var fuzzTargets = []struct {
	name, pkg string
}{
	{"FuzzMatch", "./luabridge/luapattern"},
	{"FuzzSourceDepth", "./luabridge"},
	{"FuzzFastTemplate", "./luabridge/lualib"},
}

// TestFuzzTargets searches beyond each target's seed corpus for a bounded
// time (LSGI_FUZZTIME, 10s by default; "0" skips): go test runs only the
// seeds. A failing input is written to the package's testdata/fuzz folder,
// where every later run replays it.
func TestFuzzTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("fuzzing is skipped in -short mode")
	}
	if os.Getenv("LSGI_TEST_BINARY") != "" {
		t.Skip("fuzzed by the first run of the suite")
	}
	fuzzTime := os.Getenv("LSGI_FUZZTIME")
	if fuzzTime == "" {
		fuzzTime = "10s"
	}
	if fuzzTime == "0" {
		t.Skip("LSGI_FUZZTIME=0")
	}
	budget, err := time.ParseDuration(fuzzTime)
	if err != nil {
		t.Fatalf("LSGI_FUZZTIME=%q: %v", fuzzTime, err)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range fuzzTargets {
		t.Run(target.name, func(t *testing.T) {
			// Building the fuzzing binary takes far longer than the fuzz
			// time itself; the bound only stops a hung run.
			ctx, cancel := context.WithTimeout(context.Background(), budget+3*time.Minute)
			defer cancel()
			fuzz := exec.CommandContext(ctx, goTool(), "test", "-run", "^$",
				"-fuzz", "^"+target.name+"$", "-fuzztime", fuzzTime, target.pkg)
			fuzz.Dir = root
			if out, err := fuzz.CombinedOutput(); err != nil {
				t.Fatalf("go test -fuzz %s %s: %v\n%s", target.name, target.pkg, err, out)
			}
		})
	}
}
