package tests

import (
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
	skipModuleCheck(t)
	out := runGo(t, 5*time.Minute, "test", "-count=1", "-v", "-run", "^TestMemoryFlat$",
		"./transport/fast", "-args", "-memflat.requests=300000", "-memflat.budget=60s")
	t.Logf("%s", out)
}
