package tests

import (
	"os"
	"testing"
	"time"
)

// fuzzTargets are the fuzz targets that guard the host against hostile
// input: the pattern matcher under its step budget, the source-depth check
// in front of the compiler, and the template fast path against
// html/template. Each searches a fixed number of inputs, about 5 s of an
// idle CPU: a count rather than a duration, because go1.26's fuzzing
// coordinator can report its own -fuzztime deadline as a failure
// (golang/go#75804).
var fuzzTargets = []struct {
	name, pkg, inputs string
}{
	{"FuzzMatch", "./luabridge/luapattern", "250000x"},
	{"FuzzSourceDepth", "./luabridge", "75000x"},
	{"FuzzFastTemplate", "./luabridge/lualib", "25000x"},
}

// TestFuzzTargets searches beyond each target's seed corpus (go test runs
// only the seeds). LSGI_FUZZTIME replaces every target's budget with a
// -fuzztime of its own ("1m", "1000000x"); "0" skips. A failing input is
// written to the package's testdata/fuzz folder, where every later run
// replays it.
func TestFuzzTargets(t *testing.T) {
	skipModuleCheck(t)
	override := os.Getenv("LSGI_FUZZTIME")
	if override == "0" {
		t.Skip("LSGI_FUZZTIME=0")
	}
	// The bound only stops a hung run: building the fuzzing binary alone
	// takes longer than most budgets.
	bound := 5 * time.Minute
	if d, err := time.ParseDuration(override); err == nil {
		bound += d
	}
	for _, target := range fuzzTargets {
		t.Run(target.name, func(t *testing.T) {
			budget := target.inputs
			if override != "" {
				budget = override
			}
			runGo(t, bound, "test", "-run", "^$", "-fuzz", "^"+target.name+"$", "-fuzztime", budget, target.pkg)
		})
	}
}
