//go:build race

package environ_test

// raceEnabled is set when the race detector is on; it changes allocation
// counts.
const raceEnabled = true
