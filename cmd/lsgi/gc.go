package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcHeadroom is how far the heap may grow past its live part before a
// collection, while that stays within GOGC 400 and above GOGC 100.
const gcHeadroom = 64 << 20

// gcPercent is the GOGC for a live heap of live bytes. Each request
// allocates a few kilobytes over a small live heap, so Go's default of 100
// collects very often: 400 saves about a tenth of a hello world's CPU
// (docs/PERFORMANCE.md). But a host with thousands of apps and their Lua
// states has a live heap of hundreds of megabytes, which 400 would let grow
// fivefold; there the headroom is held near gcHeadroom, down to Go's
// default.
func gcPercent(live uint64) int {
	if live == 0 {
		return 400
	}
	p := int(min(400, max(100, gcHeadroom*100/live)))
	return p - p%10 // in steps, so that a live heap that wobbles changes nothing
}

// tuneGC sets GOGC from the live heap now and every second until ctx
// ends, unless GOGC is set in the environment (lookup says so).
func tuneGC(ctx context.Context, lookup func(string) string) {
	if lookup("GOGC") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := -1
	set := func() {
		metrics.Read(sample)
		var live uint64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = sample[0].Value.Uint64()
		}
		if p := gcPercent(live); p != current {
			debug.SetGCPercent(p)
			current = p
		}
	}
	set()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				set()
			case <-ctx.Done():
				return
			}
		}
	}()
}
