package tests

import (
	"testing"

	"github.com/lsgi/lsgi/internal/redistest"
)

// startRedis runs a real redis-server for the test, with extra
// configuration args ("--maxmemory", "1mb"): on 127.0.0.1, on a free port,
// with its files in a temporary folder. It is stopped when the test ends;
// the test is skipped when redis-server is not installed. The server's
// URL(db) is what lsgi serve --shared takes; Stop, Pause, Resume and
// Restart play a Redis that goes away, hangs, and comes back.
func startRedis(t *testing.T, args ...string) *redistest.Server {
	t.Helper()
	srv := redistest.Start(t, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("redis-server log:\n%s", srv.Log())
		}
	})
	return srv
}
