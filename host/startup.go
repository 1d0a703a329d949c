// This file is the first load as the log tells it: progress lines while a
// long one runs, then one summary line, and readiness once it is over.

package host

import (
	"context"
	"sync/atomic"
	"time"
)

// progressEvery is how often a long first load logs how far it got.
var progressEvery = 2 * time.Second

// loadProgress counts the loads of one update as they end. Its methods do
// nothing on nil, so that updates that count nothing pass nil.
type loadProgress struct {
	total, loaded, failed atomic.Int64
}

func (p *loadProgress) begin(total int) {
	if p != nil {
		p.total.Store(int64(total))
	}
}

func (p *loadProgress) note(failed bool) {
	switch {
	case p == nil:
	case failed:
		p.failed.Add(1)
	default:
		p.loaded.Add(1)
	}
}

// Progress is how far the handler's first load got: Total plugins found,
// of which Loaded serve and Failed failed to load.
type Progress struct {
	Total  int `json:"total"`
	Loaded int `json:"loaded"`
	Failed int `json:"failed"`
}

func (p *loadProgress) snapshot() Progress {
	return Progress{Total: int(p.total.Load()), Loaded: int(p.loaded.Load()), Failed: int(p.failed.Load())}
}

// firstLoad loads every plugin of the sources, logging its progress every
// progressEvery while it runs and one summary line at the end.
func (h *Handler) firstLoad() error {
	start := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p := h.first.snapshot()
				h.log.Info("loading apps", "done", p.Loaded+p.Failed, "of", p.Total, "failed", p.Failed,
					"elapsed", time.Since(start).Round(time.Millisecond))
			case <-stop:
				return
			}
		}
	}()
	err := h.reg.update(context.Background(), scope{src: -1, start: true, progress: &h.first})
	close(stop)
	<-done
	if err != nil {
		return err
	}
	p := h.first.snapshot()
	h.log.Info("apps loaded", "loaded", p.Loaded, "failed", p.Failed, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Ready reports whether the handler's first load is over (every plugin
// loaded or failed to) and it has not begun to shut down: a load balancer
// may send it traffic. A plugin that failed to load does not make the
// handler unready; its mount answers 500 until it is fixed, and
// [Handler.Status] tells which.
func (h *Handler) Ready() bool { return h.ready.Load() }
