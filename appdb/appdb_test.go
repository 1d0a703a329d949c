package appdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lsgi/lsgi/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// quiet is a logger for tests.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newSQLite returns a Manager over SQLite files in a fresh folder.
func newSQLite(t *testing.T, cfg Config) *Manager {
	t.Helper()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Logger = quiet
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// newPostgres returns a Manager over a fresh database of the shared test
// server; it skips the test without PostgreSQL.
func newPostgres(t *testing.T, cfg Config) *Manager {
	t.Helper()
	cfg.URL = pgtest.Require(t).NewDatabase(t)
	cfg.Logger = quiet
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// onBoth runs f once per backend, as subtests.
func onBoth(t *testing.T, cfg Config, f func(t *testing.T, m *Manager)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newSQLite(t, cfg)) })
	t.Run("postgres", func(t *testing.T) { f(t, newPostgres(t, cfg)) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustExec(t *testing.T, d *DB, sql string, args ...any) Outcome {
	t.Helper()
	out, err := d.Exec(ctxT(t), sql, args...)
	if err != nil {
		t.Fatalf("exec %s: %v", sql, err)
	}
	return out
}

func mustQuery(t *testing.T, d *DB, sql string, args ...any) *Result {
	t.Helper()
	res, err := d.Query(ctxT(t), sql, args...)
	if err != nil {
		t.Fatalf("query %s: %v", sql, err)
	}
	return res
}

func TestParametersStayData(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, err := m.App("notes")
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, d, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
		for i, hostile := range []string{
			"'); DROP TABLE notes; --",
			`" OR 1=1 --`,
			"?", "$1", "\x00nul byte? no: postgres refuses NUL in text",
		} {
			if strings.Contains(hostile, "\x00") {
				continue
			}
			mustExec(t, d, "INSERT INTO notes (id, text) VALUES (?, ?)", i+1, hostile)
			res := mustQuery(t, d, "SELECT text FROM notes WHERE text = ?", hostile)
			if len(res.Rows) != 1 || res.Rows[0][0] != hostile {
				t.Errorf("%q came back as %v", hostile, res.Rows)
			}
		}
		res := mustQuery(t, d, "SELECT count(*) AS n FROM notes")
		if res.Columns[0] != "n" || res.Rows[0][0] != int64(4) {
			t.Errorf("count = %v %v, want n = 4: the table must still be there", res.Columns, res.Rows)
		}
	})
}

func TestValues(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, _ := m.App("values")
		blob := "BLOB"
		if m.Kind() == Postgres {
			blob = "BYTEA"
		}
		mustExec(t, d, "CREATE TABLE v (i BIGINT, f REAL, s TEXT, b "+blob+", n TEXT, d DATE)")
		mustExec(t, d, "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)", int64(1)<<40, 2.5, "tèxt", []byte{0, 1, 255}, nil, "2024-05-01")
		res := mustQuery(t, d, "SELECT i, f, s, b, n, d FROM v")
		want := []any{int64(1) << 40, 2.5, "tèxt", []byte{0, 1, 255}, nil, "2024-05-01"}
		got := res.Rows[0]
		for i := range want {
			if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
				t.Errorf("column %s = %#v, want %#v", res.Columns[i], got[i], want[i])
			}
		}
		if got[1] != 2.5 {
			t.Errorf("a REAL came back as %T", got[1])
		}
	})
}

func TestExecOutcome(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, _ := m.App("outcome")
		mustExec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
		out := mustExec(t, d, "INSERT INTO t (id, a) VALUES (?, ?), (?, ?)", 7, "x", 8, "y")
		if out.RowsAffected != 2 {
			t.Errorf("rows affected %d, want 2", out.RowsAffected)
		}
		if m.Kind() == SQLite && (!out.HasLastInsertID || out.LastInsertID != 8) {
			t.Errorf("last insert id %d (%v), want 8", out.LastInsertID, out.HasLastInsertID)
		}
		if m.Kind() == Postgres && out.HasLastInsertID {
			t.Error("PostgreSQL has no last insert id")
		}
		res := mustQuery(t, d, "INSERT INTO t (id, a) VALUES (?, ?) RETURNING id", 9, "z")
		if len(res.Rows) != 1 || res.Rows[0][0] != int64(9) {
			t.Errorf("RETURNING gave %v", res.Rows)
		}
		out = mustExec(t, d, "UPDATE t SET a = ? WHERE id > ?", "w", 7)
		if out.RowsAffected != 2 {
			t.Errorf("update affected %d, want 2", out.RowsAffected)
		}
	})
}

func TestTransactions(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, _ := m.App("tx")
		mustExec(t, d, "CREATE TABLE acct (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
		mustExec(t, d, "INSERT INTO acct VALUES ('a', 10), ('b', 0)")
		ctx := ctxT(t)

		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, "UPDATE acct SET n = n - 3 WHERE name = ?", "a")
		tx.Exec(ctx, "UPDATE acct SET n = n + 3 WHERE name = ?", "b")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		tx, err = d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, "UPDATE acct SET n = 0")
		res, _ := tx.Query(ctx, "SELECT sum(n) AS s FROM acct")
		if fmt.Sprint(res.Rows[0][0]) != "0" {
			t.Errorf("inside the transaction the sum is %v, want 0", res.Rows[0][0])
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Errorf("a second rollback: %v, want nothing", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM acct"); err == nil || !strings.Contains(err.Error(), "already ended") {
			t.Errorf("exec after rollback: %v", err)
		}
		if err := tx.Commit(); err == nil {
			t.Error("commit after rollback succeeded")
		}
		res = mustQuery(t, d, "SELECT name, n FROM acct ORDER BY name")
		if fmt.Sprint(res.Rows) != "[[a 7] [b 3]]" {
			t.Errorf("after commit and rollback: %v, want [[a 7] [b 3]]", res.Rows)
		}
	})
}

func TestResultCaps(t *testing.T) {
	onBoth(t, Config{MaxRows: 5, MaxBytes: 100}, func(t *testing.T, m *Manager) {
		d, _ := m.App("caps")
		mustExec(t, d, "CREATE TABLE t (s TEXT)")
		for i := range 6 {
			mustExec(t, d, "INSERT INTO t VALUES (?)", fmt.Sprint(i))
		}
		mustExec(t, d, "INSERT INTO t VALUES (?)", strings.Repeat("x", 101))
		for _, tc := range []struct {
			desc, sql string
			rows      bool
		}{
			{"rows", "SELECT s FROM t WHERE length(s) = 1", true},
			{"bytes", "SELECT s FROM t WHERE length(s) > 1", false},
		} {
			_, err := d.Query(ctxT(t), tc.sql)
			var lim *LimitError
			if !errors.As(err, &lim) || lim.Rows != tc.rows {
				t.Errorf("%s: error %v, want a LimitError", tc.desc, err)
			}
		}
		if res := mustQuery(t, d, "SELECT s FROM t WHERE length(s) = 1 LIMIT 5"); len(res.Rows) != 5 {
			t.Errorf("5 rows at a cap of 5: got %d", len(res.Rows))
		}
	})
}

func TestStatementErrors(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, _ := m.App("errors")
		_, err := d.Query(ctxT(t), "SELECT * FROM missing_table WHERE a = ?", 1)
		var e *Error
		if !errors.As(err, &e) || e.SQL != "SELECT * FROM missing_table WHERE a = ?" || !strings.Contains(e.Err.Error(), "missing_table") {
			t.Fatalf("error %v, want one naming the statement and the table", err)
		}
		if !strings.Contains(err.Error(), `(in "SELECT * FROM missing_table WHERE a = ?")`) {
			t.Errorf("message %q does not quote the statement", err)
		}
	})
}

func TestClosed(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, _ := m.App("closed")
		mustExec(t, d, "CREATE TABLE t (a INTEGER)")
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := d.Query(ctxT(t), "SELECT a FROM t"); !errors.Is(err, ErrClosed) {
			t.Errorf("query after Close: %v, want ErrClosed", err)
		}
		if _, err := d.Begin(ctxT(t)); !errors.Is(err, ErrClosed) {
			t.Errorf("begin after Close: %v, want ErrClosed", err)
		}
		if _, err := m.App("other"); !errors.Is(err, ErrClosed) {
			t.Errorf("App after Close: %v, want ErrClosed", err)
		}
	})
}

func TestDeadline(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		d, _ := m.App("deadline")
		mustExec(t, d, "CREATE TABLE t (a INTEGER)")
		ctx := ctxT(t)
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		if m.Kind() == Postgres {
			// Row locks: a second writer of the same row waits for the first.
			mustExec(t, d, "CREATE TABLE u (a INTEGER PRIMARY KEY)")
			mustExec(t, d, "INSERT INTO u VALUES (1)")
			if _, err := tx.Exec(ctx, "UPDATE u SET a = 1 WHERE a = 1"); err != nil {
				t.Fatal(err)
			}
		}
		short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		stmt := "INSERT INTO t VALUES (2)"
		if m.Kind() == Postgres {
			stmt = "UPDATE u SET a = 1 WHERE a = 1"
		}
		_, err = d.Exec(short, stmt)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "cancel") {
			t.Errorf("a writer behind an open transaction: %v, want the deadline's error", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("the blocked writer returned after %v", took)
		}
	})
}

func TestMigrate(t *testing.T) {
	onBoth(t, Config{}, func(t *testing.T, m *Manager) {
		ctx := ctxT(t)
		fsys := fstest.MapFS{
			"migrations/002_tags.sql":  {Data: []byte("ALTER TABLE notes ADD COLUMN tags TEXT;\nINSERT INTO notes (id, text) VALUES (2, 'second');")},
			"migrations/001_init.sql":  {Data: []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);\nINSERT INTO notes (id, text) VALUES (1, 'first');")},
			"migrations/README.txt":    {Data: []byte("not a migration")},
			"init.lua":                 {Data: []byte("return nil")},
			"migrations/sub/x.sql":     {Data: []byte("DROP TABLE notes;")},
			"migrations/003_empty.sql": {Data: []byte("")},
		}
		applied, err := m.Migrate(ctx, "mig", fsys)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(applied) != "[migrations/001_init.sql migrations/002_tags.sql migrations/003_empty.sql]" {
			t.Errorf("applied %v", applied)
		}
		again, err := m.Migrate(ctx, "mig", fsys)
		if err != nil || len(again) != 0 {
			t.Errorf("second run applied %v, %v; want nothing", again, err)
		}
		d, _ := m.App("mig")
		if res := mustQuery(t, d, "SELECT text FROM notes ORDER BY id"); fmt.Sprint(res.Rows) != "[[first] [second]]" {
			t.Errorf("notes %v: each migration must run once, in order", res.Rows)
		}

		// A failing migration changes nothing and stops the later ones.
		fsys["migrations/004_bad.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO notes (id, text) VALUES (3, 'half');\nINSERT INTO nowhere VALUES (1);")}
		fsys["migrations/005_later.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO notes (id, text) VALUES (4, 'later');")}
		applied, err = m.Migrate(ctx, "mig", fsys)
		var me *MigrationError
		if !errors.As(err, &me) || me.File != "migrations/004_bad.sql" || len(applied) != 0 {
			t.Fatalf("bad migration: applied %v, error %v", applied, err)
		}
		if res := mustQuery(t, d, "SELECT count(*) FROM notes"); fmt.Sprint(res.Rows[0][0]) != "2" {
			t.Errorf("a failed migration left %v notes, want 2", res.Rows[0][0])
		}
		if res := mustQuery(t, d, "SELECT name FROM lsgi_migrations ORDER BY name"); len(res.Rows) != 3 {
			t.Errorf("recorded %v", res.Rows)
		}

		// Fixed, both run.
		fsys["migrations/004_bad.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO notes (id, text) VALUES (3, 'fixed');")}
		if applied, err = m.Migrate(ctx, "mig", fsys); err != nil || len(applied) != 2 {
			t.Errorf("after the fix: applied %v, %v", applied, err)
		}

		// An applied file that changed is refused.
		fsys["migrations/001_init.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE notes (id INTEGER);")}
		if _, err = m.Migrate(ctx, "mig", fsys); err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
			t.Errorf("changed migration: %v", err)
		}
	})
}

func TestMigrateNothing(t *testing.T) {
	m := newSQLite(t, Config{})
	for _, fsys := range []fs.FS{nil, fstest.MapFS{"init.lua": {Data: []byte("x")}}} {
		applied, err := m.Migrate(ctxT(t), "none", fsys)
		if err != nil || applied != nil {
			t.Errorf("no migrations: %v, %v", applied, err)
		}
	}
	if _, err := os.Stat(m.cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("an app without migrations created the data folder (%v)", err)
	}
}

// TestSQLiteManyWriters writes from many goroutines at once, as many Lua
// states do: plain inserts, and read-modify-write transactions that would
// lose updates without serialisation. No write may be lost and no
// "database is locked" may surface.
func TestSQLiteManyWriters(t *testing.T) {
	m := newSQLite(t, Config{})
	d, _ := m.App("busy")
	mustExec(t, d, "CREATE TABLE log (w INTEGER, i INTEGER)")
	mustExec(t, d, "CREATE TABLE counter (n INTEGER)")
	mustExec(t, d, "INSERT INTO counter VALUES (0)")
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range each {
				if _, err := d.Exec(ctx, "INSERT INTO log VALUES (?, ?)", w, i); err != nil {
					errs <- err
					return
				}
				tx, err := d.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				res, err := tx.Query(ctx, "SELECT n FROM counter")
				if err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if _, err := tx.Exec(ctx, "UPDATE counter SET n = ?", res.Rows[0][0].(int64)+1); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				if _, err := d.Query(ctx, "SELECT count(*) FROM log WHERE w = ?", w); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if res := mustQuery(t, d, "SELECT count(*) FROM log"); res.Rows[0][0] != int64(workers*each) {
		t.Errorf("log has %v rows, want %d", res.Rows[0][0], workers*each)
	}
	if res := mustQuery(t, d, "SELECT n FROM counter"); res.Rows[0][0] != int64(workers*each) {
		t.Errorf("counter is %v, want %d", res.Rows[0][0], workers*each)
	}
	if res := mustQuery(t, d, "PRAGMA journal_mode"); res.Rows[0][0] != "wal" {
		t.Errorf("journal_mode %v, want wal", res.Rows[0][0])
	}
}

// TestSQLiteOddFolder keeps the database in a folder whose name holds the
// characters that end a path in a SQLite URI.
func TestSQLiteOddFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d")
	m, err := New(Config{DataDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d, err := m.App("odd")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, d, "CREATE TABLE t (a)")
	if _, err := os.Stat(filepath.Join(dir, "odd.db")); err != nil {
		t.Errorf("no odd.db in %s: %v", dir, err)
	}
}

// TestSQLiteFilePerApp checks where the files go and that two apps never
// share one.
func TestSQLiteFilePerApp(t *testing.T) {
	m := newSQLite(t, Config{})
	for _, app := range []string{"a", "b", "../escape"} {
		d, err := m.App(app)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, d, "CREATE TABLE mine (app TEXT)")
		mustExec(t, d, "INSERT INTO mine VALUES (?)", app)
	}
	for _, app := range []string{"a", "b", "../escape"} {
		d, _ := m.App(app)
		if res := mustQuery(t, d, "SELECT app FROM mine"); fmt.Sprint(res.Rows) != "[["+app+"]]" {
			t.Errorf("app %s sees %v", app, res.Rows)
		}
	}
	for _, f := range []string{"a.db", "b.db", "%2E.%2Fescape.db"} {
		if _, err := os.Stat(filepath.Join(m.cfg.DataDir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(m.cfg.DataDir), "escape.db")); err == nil {
		t.Error("an app name left the data folder")
	}
}
