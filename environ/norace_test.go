//go:build !race

package environ_test

const raceEnabled = false
