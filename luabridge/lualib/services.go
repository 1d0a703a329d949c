package lualib

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/lsgi/lsgi/appdb"
	"github.com/lsgi/lsgi/outbound"
)

// Services are the host's long-lived resources behind the toolkit's data
// modules: shared dictionaries, SQL databases, outbound HTTP, secrets and
// settings. One Services value serves every app of a host and outlives
// every app version, so that what an app keeps there survives reloads;
// each module keeps one app's data apart from another's by the app's name
// ([Options.App]).
//
// The zero value is ready to use; the creator of a Services (lsgi serve,
// or a Go program embedding the host) releases it with [Services.Close]
// after the host has stopped.
//
// # Thread safety
//
// A Services is safe for concurrent use by every Lua state of every app.
// Its exported fields are set before the first app loads and not changed
// afterwards.
type Services struct {
	// DataDir is the host's data folder: lsgi.db keeps each app's SQLite
	// database there (DataDir/NAME.db), creating the folder on first use.
	// "" means "data", relative to the working directory.
	DataDir string

	// DB is the backend of lsgi.db. Nil means SQLite files under DataDir
	// with appdb's default limits, opened when an app first uses lsgi.db.
	DB *appdb.Manager

	// HTTP is the client behind lsgi.http. Nil means outbound's defaults:
	// public destinations only, 16 MiB bodies, 5 redirects, 30s.
	HTTP *outbound.Client

	mu          sync.Mutex
	closed      bool
	defaultDB   *appdb.Manager
	defaultHTTP *outbound.Client
}

// errServicesClosed is what the data modules raise after Close.
var errServicesClosed = errors.New("lualib: the host's services are closed (the server is stopping)")

// database returns the backend of lsgi.db, making the default one on
// first use.
func (s *Services) database() (*appdb.Manager, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, errServicesClosed
	case s.DB != nil:
		return s.DB, nil
	case s.defaultDB == nil:
		m, err := appdb.New(appdb.Config{DataDir: s.DataDir})
		if err != nil {
			return nil, err
		}
		s.defaultDB = m
	}
	return s.defaultDB, nil
}

// httpClient returns the client of lsgi.http, making the default one on
// first use.
func (s *Services) httpClient() (*outbound.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, errServicesClosed
	case s.HTTP != nil:
		return s.HTTP, nil
	case s.defaultHTTP == nil:
		c, err := outbound.New(outbound.Config{})
		if err != nil {
			return nil, err
		}
		s.defaultHTTP = c
	}
	return s.defaultHTTP, nil
}

// PrepareApp readies the services for a new version of the app called
// name, before its first Lua state opens: it applies the migrations of
// lsgi.db found in fsys, the app's own folder (nil for an app without
// one). An error means that this version must not serve; the host then
// keeps the previous one. It is safe to call on a nil Services.
func (s *Services) PrepareApp(ctx context.Context, name string, fsys fs.FS) error {
	if s == nil {
		return nil
	}
	files, err := appdb.Migrations(fsys)
	if err != nil || len(files) == 0 {
		return err
	}
	m, err := s.database()
	if err != nil {
		return fmt.Errorf("lualib: migrations of %s: %w", name, err)
	}
	if _, err := m.Migrate(ctx, name, fsys); err != nil {
		return err
	}
	return nil
}

// Close releases the resources the services hold: it closes DB (or the
// default database) and HTTP's idle connections. Calls from Lua made
// afterwards raise an error. It is safe to call on a nil Services, and
// more than once.
func (s *Services) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, m := range []*appdb.Manager{s.DB, s.defaultDB} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	for _, c := range []*outbound.Client{s.HTTP, s.defaultHTTP} {
		if c != nil {
			c.Close()
		}
	}
	return errors.Join(errs...)
}
