// This file counts requests per app for the metrics and the status page
// (Config.Metrics). The counters hang off each plugin, found once per
// request by the mount lookup the cycle does anyway, so that counting is a
// handful of atomic adds: no label lookup, no lock, no allocation.

package host

import (
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// durationBounds are the upper bounds of the buckets of the request
// duration and queue wait histograms, from 100µs (a small app's whole
// request) to the default request timeout.
var durationBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// DurationBuckets returns the upper bounds of the buckets of every
// [Histogram], in increasing order: 100µs to 30s.
func DurationBuckets() []time.Duration { return slices.Clone(durationBounds[:]) }

// histogram counts durations in the buckets of durationBounds, the last
// counter being +Inf. The counts are per bucket, not cumulative.
type histogram struct {
	counts [len(durationBounds) + 1]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(durationBounds) && d > durationBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// snapshot reads the histogram. The counters are read one by one while
// requests go on, so the sum may be a request ahead of the counts.
func (h *histogram) snapshot() Histogram {
	out := Histogram{Counts: make([]uint64, len(h.counts)), Sum: time.Duration(h.sum.Load())}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
		out.Count += out.Counts[i]
	}
	return out
}

// codeSlots is how many distinct status codes one app counts apart; more
// are counted as "other". An app seldom sends more than a dozen.
const codeSlots = 24

// codeCounts counts responses by status code in a small open-addressing
// table: a slot is claimed by the first response with its code and never
// given back.
type codeCounts struct {
	slots [codeSlots]struct {
		code atomic.Uint32
		n    atomic.Uint64
	}
	other atomic.Uint64
}

func (c *codeCounts) add(code int) {
	start := code % codeSlots
	for i := range codeSlots {
		s := &c.slots[(start+i)%codeSlots]
		got := s.code.Load()
		if got == 0 && !s.code.CompareAndSwap(0, uint32(code)) {
			got = s.code.Load() // claimed meanwhile, by this code or another
		} else if got == 0 {
			got = uint32(code)
		}
		if got == uint32(code) {
			s.n.Add(1)
			return
		}
	}
	c.other.Add(1)
}

// snapshot returns the counts by code, with code 0 standing for "other".
func (c *codeCounts) snapshot() map[int]uint64 {
	out := map[int]uint64{}
	for i := range c.slots {
		if code := c.slots[i].code.Load(); code != 0 {
			out[int(code)] = c.slots[i].n.Load()
		}
	}
	if n := c.other.Load(); n > 0 {
		out[0] = n
	}
	return out
}

// appStats are one app's counters, kept across its versions: a reload does
// not reset them.
type appStats struct {
	inFlight  atomic.Int64
	codes     codeCounts
	duration  histogram
	queueWait histogram
	busy      atomic.Uint64 // 503: no free Lua state within QueueTimeout
	timeouts  atomic.Uint64 // 504, or aborted by the deadline after the headers
	appErrors atomic.Uint64 // Lua errors and contract breaches
	aborted   atomic.Uint64 // responses cut short: ErrAborted
}

// done records a request the app's mount took, once its response is over.
func (s *appStats) done(status int, aborted bool, took time.Duration) {
	s.inFlight.Add(-1)
	s.codes.add(status)
	s.duration.observe(took)
	if aborted {
		s.aborted.Add(1)
	}
}

// The note methods count one outcome of a request; on nil (no
// Config.Metrics) they do nothing.

func (s *appStats) noteBusy() {
	if s != nil {
		s.busy.Add(1)
	}
}

func (s *appStats) noteTimeout() {
	if s != nil {
		s.timeouts.Add(1)
	}
}

func (s *appStats) noteAppError() {
	if s != nil {
		s.appErrors.Add(1)
	}
}

// RequestStats are the counts of one app's requests since the handler
// started (with [Config.Metrics]).
type RequestStats struct {
	// Total is the number of requests that ended.
	Total uint64 `json:"total"`
	// InFlight is the number of requests running now.
	InFlight int64 `json:"in_flight"`
	// Codes counts the requests by the status sent; 499 is a client that
	// left before any response, 0 the codes past the few dozen counted
	// apart.
	Codes map[int]uint64 `json:"codes"`
	// Duration is the time from the request's arrival to the end of its
	// response.
	Duration Histogram `json:"duration"`
	// QueueWait is the time the requests that found every Lua state busy
	// waited for one (those that found one free at once are not in it).
	QueueWait Histogram `json:"queue_wait"`
	// Busy counts 503s: no Lua state came free within Config.QueueTimeout.
	Busy uint64 `json:"busy"`
	// Timeouts counts requests that reached their deadline (504, or cut
	// short if their headers were out).
	Timeouts uint64 `json:"timeouts"`
	// AppErrors counts requests the app failed with a Lua error or a
	// breach of the LSGI contract (500, or cut short).
	AppErrors uint64 `json:"app_errors"`
	// Aborted counts responses that did not end normally: the client left,
	// or the app failed after its headers went out.
	Aborted uint64 `json:"aborted"`
}

// Histogram is a snapshot of a duration histogram: Counts[i] requests took
// at most DurationBuckets()[i] (and more than the bound before), the last
// count being the ones above every bound.
type Histogram struct {
	Counts []uint64      `json:"counts"`
	Count  uint64        `json:"count"`
	Sum    time.Duration `json:"sum_ns"`
}

// Quantile estimates the q-quantile (0 < q < 1) of the durations, as
// Prometheus's histogram_quantile does: linearly within the bucket that
// holds it. It returns 0 for an empty histogram, and the highest bound for
// a quantile that falls above it.
func (h Histogram) Quantile(q float64) time.Duration {
	if h.Count == 0 || len(h.Counts) != len(durationBounds)+1 {
		return 0
	}
	rank := q * float64(h.Count)
	var below uint64
	for i, n := range h.Counts {
		if n == 0 || float64(below+n) < rank {
			below += n
			continue
		}
		if i == len(durationBounds) {
			return durationBounds[i-1]
		}
		lower := time.Duration(0)
		if i > 0 {
			lower = durationBounds[i-1]
		}
		frac := (rank - float64(below)) / float64(n)
		return lower + time.Duration(math.Round(frac*float64(durationBounds[i]-lower)))
	}
	return durationBounds[len(durationBounds)-1]
}

func (s *appStats) snapshot() *RequestStats {
	out := &RequestStats{
		InFlight:  s.inFlight.Load(),
		Codes:     s.codes.snapshot(),
		Duration:  s.duration.snapshot(),
		QueueWait: s.queueWait.snapshot(),
		Busy:      s.busy.Load(),
		Timeouts:  s.timeouts.Load(),
		AppErrors: s.appErrors.Load(),
		Aborted:   s.aborted.Load(),
	}
	out.Total = out.Duration.Count
	return out
}
