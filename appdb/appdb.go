package appdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Defaults of [Config].
const (
	DefaultDataDir        = "data"
	DefaultMaxRows        = 10000
	DefaultMaxBytes       = 16 << 20
	DefaultBusyTimeout    = 5 * time.Second
	DefaultMigrateTimeout = time.Minute
)

// ErrClosed is returned by every call after [Manager.Close].
var ErrClosed = errors.New("appdb: database closed")

// Kind names a backend.
type Kind string

// The backends.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Config configures a [Manager]. The zero value gives SQLite files under
// ./data with the default limits.
type Config struct {
	// DataDir is the folder of the SQLite databases, one file NAME.db per
	// app; it is created on first use. The default is "data".
	DataDir string

	// URL, if set, selects PostgreSQL: a postgres:// or postgresql:// URL
	// as libpq takes it (pgx's parser). Every app then shares one pool.
	URL string

	// MaxRows bounds the rows of one result; the default is 10,000.
	MaxRows int

	// MaxBytes bounds the bytes of one result's values (strings and blobs
	// count their length, other values 8 bytes); the default is 16 MiB.
	MaxBytes int64

	// MaxConns bounds the open connections: of each app's SQLite
	// database, or of the PostgreSQL pool. The default is 16 for SQLite and
	// 20 for PostgreSQL.
	MaxConns int

	// BusyTimeout is how long a SQLite statement waits for a lock held
	// outside this process (another program using the file) before it
	// fails; the default is 5s. Writers of this process wait for each
	// other in Go, under their own context.
	BusyTimeout time.Duration

	// MigrateTimeout bounds the migrations of one app version; the default
	// is one minute.
	MigrateTimeout time.Duration

	// Logger receives a line per applied migration. Nil means
	// slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.MaxRows <= 0 {
		c.MaxRows = DefaultMaxRows
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.BusyTimeout <= 0 {
		c.BusyTimeout = DefaultBusyTimeout
	}
	if c.MigrateTimeout <= 0 {
		c.MigrateTimeout = DefaultMigrateTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Manager hands out each app's [DB] and owns the connections behind them.
//
// # Lifecycle
//
//  1. [New] checks the configuration; it opens nothing.
//  2. [Manager.App] opens an app's database on its first call (SQLite:
//     the file; PostgreSQL: the pool, then the app's schema on first use).
//  3. [Manager.Close] closes every database; calls made afterwards get
//     [ErrClosed].
type Manager struct {
	cfg  Config
	kind Kind
	pg   *pgPool // PostgreSQL only

	mu     sync.Mutex
	dbs    map[string]*DB
	closed bool
}

// New returns a Manager for cfg. It fails on a URL it cannot parse, and
// connects to nothing yet.
func New(cfg Config) (*Manager, error) {
	cfg = cfg.withDefaults()
	m := &Manager{cfg: cfg, kind: SQLite, dbs: map[string]*DB{}}
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, fmt.Errorf("appdb: database URL %q: only postgres:// and postgresql:// URLs are supported", redact(cfg.URL))
		}
		pg, err := newPGPool(cfg)
		if err != nil {
			return nil, err
		}
		m.kind, m.pg = Postgres, pg
	}
	return m, nil
}

// Kind tells which backend the Manager uses.
func (m *Manager) Kind() Kind { return m.kind }

// Limits returns the result caps in force: rows and bytes.
func (m *Manager) Limits() (rows int, bytes int64) { return m.cfg.MaxRows, m.cfg.MaxBytes }

// Ping checks that the backend answers: for PostgreSQL, that the server
// takes a connection; for SQLite, that the data folder can be created.
func (m *Manager) Ping(ctx context.Context) error {
	if m.kind == Postgres {
		if err := m.pg.db.PingContext(ctx); err != nil {
			return fmt.Errorf("appdb: connect to PostgreSQL at %s: %w", redact(m.cfg.URL), err)
		}
		return nil
	}
	return ensureDir(m.cfg.DataDir)
}

// App returns the database of the app called name, opening it on first
// use. The same name always gives the same DB until Close.
func (m *Manager) App(name string) (*DB, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if d, ok := m.dbs[name]; ok {
		return d, nil
	}
	var (
		d   *DB
		err error
	)
	if m.kind == Postgres {
		d, err = m.pg.app(m, name)
	} else {
		d, err = openSQLite(m, name)
	}
	if err != nil {
		return nil, err
	}
	m.dbs[name] = d
	return d, nil
}

// Close closes every database the Manager opened. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	dbs := m.dbs
	m.dbs = nil
	m.mu.Unlock()
	var errs []error
	for _, d := range dbs {
		d.markClosed()
		if m.kind == SQLite {
			if err := d.sql.Close(); err != nil {
				errs = append(errs, fmt.Errorf("appdb: close %s: %w", d.app, err))
			}
		}
	}
	if m.pg != nil {
		if err := m.pg.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("appdb: close the PostgreSQL pool: %w", err))
		}
	}
	return errors.Join(errs...)
}

// isClosed reports whether Close has run.
func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}
