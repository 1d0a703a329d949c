package tests

import (
	"errors"
	"testing"

	"github.com/lsgi/lsgi/internal/pgtest"
)

// startPostgres starts a PostgreSQL server of the test's own on 127.0.0.1
// and a free port, in a temporary folder (as the user postgres when the
// tests run as root), and stops it when the test ends. It skips the test
// when PostgreSQL is not installed.
func startPostgres(t *testing.T) *pgtest.Server {
	t.Helper()
	srv, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrMissing) {
		t.Skip("PostgreSQL not installed: apt-get install postgresql")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}
