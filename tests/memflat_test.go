package tests

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestMemoryFlatWithoutRace runs transport/fast's TestMemoryFlat in a
// build without the race detector when this one has it, so that the test
// command (go test -race ./...) still checks that memory stays flat: that
// test skips itself under -race, whose shadow memory says nothing of the
// server's. It serves 300,000 requests per engine here, past the point
// where every state the load opens is open; run the package alone for a
// million.
func TestMemoryFlatWithoutRace(t *testing.T) {
	if !raceEnabled {
		t.Skip("TestMemoryFlat runs in its own package without -race")
	}
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	if os.Getenv("LSGI_TEST_BINARY") != "" {
		t.Skip("run by the first run of the suite")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, goTool(), "test", "-count=1", "-v", "-run", "^TestMemoryFlat$",
		"./transport/fast", "-args", "-memflat.requests=300000", "-memflat.budget=60s")
	run.Dir = root
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("go test -run TestMemoryFlat ./transport/fast: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
