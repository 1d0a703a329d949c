package lualib

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/lsgi/lsgi/appdb"
	"github.com/lsgi/lsgi/dict"
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
// after the host has stopped. Set the fields before the host starts and
// leave them alone afterwards.
//
// # Thread safety
//
// A Services is safe for concurrent use by every Lua state of every app.
type Services struct {
	// Shared is the store of lsgi.shared's dictionaries (and of
	// lsgi.session's data). Nil means an in-memory store, made on first
	// use. Close closes it.
	Shared dict.Store
	// SharedDicts are the host-wide dictionaries, by name, with their size
	// in bytes (0 for the store's default): every app reaches them as
	// require("lsgi.shared").global.NAME. No other dictionary is shared
	// between apps.
	SharedDicts map[string]int64

	// Secret is the host's secret key: lsgi.session signs its cookies,
	// and lsgi.config.secret derives each app's keys, with keys made from
	// it. Nil means the secret kept in DataDir/secret, generated (32
	// random bytes) and written there with mode 0600 on first use.
	Secret []byte
	// DataDir is the host's data folder, made on first use; "" means
	// "data" in the working directory. lsgi.db keeps each app's SQLite
	// database there (DataDir/NAME.db) unless DB says otherwise.
	DataDir string

	// Env are the environment variables apps may read through
	// lsgi.config.env, by name, taken from the host's environment when it
	// starts ([SnapshotEnv]).
	Env map[string]string
	// EnvAllow are the names apps may read besides those in Env (then
	// unset: lsgi.config.env gives nil): a name, or a prefix ending in
	// "*" (lsgi serve --env NAME,PREFIX_*). Reading any other name raises
	// a Lua error that tells the operator what to allow.
	EnvAllow []string

	// DB is the backend of lsgi.db. Nil means SQLite files under DataDir
	// with appdb's default limits, opened when an app first uses lsgi.db.
	// Close closes it.
	DB *appdb.Manager
	// HTTP is the client behind lsgi.http. Nil means outbound's defaults:
	// public destinations only, 16 MiB bodies, 5 redirects, 30s.
	HTTP *outbound.Client

	sharedOnce  sync.Once
	sharedStore dict.Store

	secretMu sync.Mutex
	secret   []byte

	mu          sync.Mutex // guards the fields below
	closed      bool
	defaultDB   *appdb.Manager
	defaultHTTP *outbound.Client
}

// Close releases the resources the services hold: the shared store, the
// database (DB, or the default one) and HTTP's idle connections. Calls from
// Lua made afterwards raise an error. It is safe to call on a nil Services.
func (s *Services) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	// Never used: a closed empty store, so that a late call fails cleanly.
	s.sharedOnce.Do(func() {
		s.sharedStore = s.Shared
		if s.sharedStore == nil {
			s.sharedStore = dict.NewMemory(dict.Options{})
		}
	})
	if err := s.sharedStore.Close(); err != nil {
		errs = append(errs, fmt.Errorf("lualib: close the shared store: %w", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
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
	}
	return errors.Join(errs...)
}

// store returns the dictionaries' store, making the in-memory one on first
// use when none was given.
func (s *Services) store() dict.Store {
	s.sharedOnce.Do(func() {
		s.sharedStore = s.Shared
		if s.sharedStore == nil {
			s.sharedStore = dict.NewMemory(dict.Options{})
		}
	})
	return s.sharedStore
}

// dataDir returns the data folder.
func (s *Services) dataDir() string {
	if s.DataDir == "" {
		return "data"
	}
	return s.DataDir
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
		m, err := appdb.New(appdb.Config{DataDir: s.dataDir()})
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

// ReadAtLoad reports whether the toolkit reads a file of an app's folder
// (named relative to the folder) once per app version rather than as
// requests need it: the settings file of lsgi.config and the migrations of
// lsgi.db. A change to such a file needs a new version of the app, as a
// change to its Lua code does; templates and static files are read fresh.
func ReadAtLoad(name string) bool {
	return name == SettingsFile || (path.Dir(name) == appdb.MigrationsDir && strings.HasSuffix(name, ".sql"))
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
