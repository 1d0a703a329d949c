package appdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// defaultSQLiteConns bounds each app's SQLite connections: readers run in
// parallel under WAL, writers one at a time.
const defaultSQLiteConns = 16

// openSQLite opens the app's database file under the data folder, creating
// both if need be, and checks it with one connection so that an unwritable
// folder or a damaged file is reported now.
func openSQLite(m *Manager, app string) (*DB, error) {
	name, err := fileName(app)
	if err != nil {
		return nil, err
	}
	if err := ensureDir(m.cfg.DataDir); err != nil {
		return nil, err
	}
	path, err := filepath.Abs(filepath.Join(m.cfg.DataDir, name))
	if err != nil {
		return nil, fmt.Errorf("appdb: database file of %s: %w", app, err)
	}
	db, err := sql.Open("sqlite", sqliteURI(path)+"?"+sqliteParams(m.cfg.BusyTimeout))
	if err != nil {
		return nil, fmt.Errorf("appdb: open %s: %w", path, err)
	}
	conns := m.cfg.MaxConns
	if conns <= 0 {
		conns = defaultSQLiteConns
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.BusyTimeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("appdb: open %s: %w", path, err)
	}
	return &DB{m: m, app: app, kind: SQLite, sql: db, write: make(chan struct{}, 1)}, nil
}

// sqliteParams are the settings of every connection: WAL so that readers
// never wait for writers, a busy timeout for locks held elsewhere,
// synchronous=NORMAL (durable at each checkpoint, safe under WAL), foreign
// keys enforced, and BEGIN IMMEDIATE for transactions.
func sqliteParams(busy time.Duration) string {
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Set("_txlock", "immediate")
	return v.Encode()
}

// sqliteURI turns a file path into a SQLite URI filename, so that a path
// holding '?' or '#' still names the file and not a query.
func sqliteURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
}
