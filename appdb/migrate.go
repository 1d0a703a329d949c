package appdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"time"
)

// MigrationsDir is the folder of an app's migrations, inside the app's
// folder.
const MigrationsDir = "migrations"

// migrationsTable records the migrations applied to an app's database.
const migrationsTable = "lsgi_migrations"

// MigrationError is a migration that could not be applied; the database
// is left as it was before that file.
type MigrationError struct {
	App  string
	File string // "migrations/002_tags.sql"
	Err  error
}

func (e *MigrationError) Error() string {
	return fmt.Sprintf("appdb: app %s: migration %s: %v", e.App, e.File, e.Err)
}

func (e *MigrationError) Unwrap() error { return e.Err }

// Migrations lists an app's migration files in the order they run: the
// .sql files of migrations/ in fsys, sorted by name. fsys may be nil.
func Migrations(fsys fs.FS) ([]string, error) {
	if fsys == nil {
		return nil, nil
	}
	names, err := fs.Glob(fsys, MigrationsDir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("appdb: list migrations: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Migrate applies the app's migrations that its database has not seen yet
// (see [Migrations]), in order, each in its own transaction together with
// its row in lsgi_migrations, and returns the files it applied. It stops
// at the first failure, which it returns as a [*MigrationError]. A file
// that was applied earlier and has changed since is an error too: add a
// new migration instead. An app without migrations opens no database.
func (m *Manager) Migrate(ctx context.Context, app string, fsys fs.FS) ([]string, error) {
	files, err := Migrations(fsys)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.MigrateTimeout)
	defer cancel()
	d, err := m.App(app)
	if err != nil {
		return nil, err
	}
	if _, err := d.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+migrationsTable+
		" (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)"); err != nil {
		return nil, &MigrationError{App: app, File: MigrationsDir, Err: err}
	}
	var applied []string
	for _, file := range files {
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return applied, &MigrationError{App: app, File: file, Err: err}
		}
		ran, err := d.migrate(ctx, path.Base(file), src)
		if err != nil {
			return applied, &MigrationError{App: app, File: file, Err: err}
		}
		if ran {
			m.cfg.Logger.Info("migration applied", "app", app, "file", file)
			applied = append(applied, file)
		}
	}
	return applied, nil
}

// errChanged is a migration edited after it was applied.
var errChanged = errors.New("the file changed after it was applied; put the change in a new migration")

// migrate applies one migration unless lsgi_migrations has it already, and
// reports whether it ran. The check and the work share one transaction,
// which on PostgreSQL also holds an advisory lock on the app's schema, so
// that two hosts starting together apply each file once.
func (d *DB) migrate(ctx context.Context, name string, src []byte) (ran bool, err error) {
	sum := sha256.Sum256(src)
	hash := hex.EncodeToString(sum[:])
	tx, err := d.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if d.kind == Postgres {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", d.schema); err != nil {
			return false, err
		}
	}
	res, err := tx.Query(ctx, "SELECT sha256 FROM "+migrationsTable+" WHERE name = ?", name)
	if err != nil {
		return false, err
	}
	if len(res.Rows) > 0 {
		if prev, _ := res.Rows[0][0].(string); prev != hash {
			return false, errChanged
		}
		return false, tx.Rollback()
	}
	if _, err := tx.Exec(ctx, string(src)); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+migrationsTable+" (name, sha256, applied_at) VALUES (?, ?, ?)",
		name, hash, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}
