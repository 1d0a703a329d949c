//go:build race

package fast_test

func init() { raceEnabled = true }
