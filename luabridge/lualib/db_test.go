package lualib

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsgi/lsgi/appdb"
	lua "github.com/yuin/gopher-lua"
)

// servicesState opens a safe state with the toolkit over services, for the
// app called app.
func servicesState(t *testing.T, services *Services, app string) *lua.LState {
	t.Helper()
	L := newSafeState(t)
	NewShared(Options{App: app, Services: services}).Preload(L)
	return L
}

// sqliteServices returns Services over SQLite files in a fresh folder,
// with the caps of cfg.
func sqliteServices(t *testing.T, cfg appdb.Config) *Services {
	t.Helper()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	m, err := appdb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &Services{DB: m}
	t.Cleanup(func() { s.Close() })
	return s
}

// luaErr runs code and returns its error text ("" when it ran).
func luaErr(L *lua.LState, code string) string {
	if err := L.DoString(code); err != nil {
		return err.Error()
	}
	return ""
}

func TestDBCapsNameTheFlags(t *testing.T) {
	L := servicesState(t, sqliteServices(t, appdb.Config{MaxRows: 3, MaxBytes: 64}), "caps")
	if err := L.DoString(`
		db = require "lsgi.db"
		db.exec("CREATE TABLE t (s TEXT)")
		for i = 1, 4 do db.exec("INSERT INTO t VALUES (?)", tostring(i)) end
		db.exec("INSERT INTO t VALUES (?)", string.rep("x", 100))`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc, code, want string
	}{
		{"rows", `db.query("SELECT s FROM t WHERE length(s) = 1")`, "the result has more than 3 rows (the cap set by --db-max-rows)"},
		{"bytes", `db.query("SELECT s FROM t WHERE length(s) > 1")`, "the result holds more than 64 bytes (the cap set by --db-max-bytes)"},
	} {
		msg := luaErr(L, `local ok, err = pcall(function() `+tc.code+` end) assert(not ok) error(err, 0)`)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %q, want %q", tc.desc, msg, tc.want)
		}
	}
}

func TestDBClosed(t *testing.T) {
	s := sqliteServices(t, appdb.Config{})
	L := servicesState(t, s, "closed")
	if msg := luaErr(L, `db = require "lsgi.db"; db.exec("CREATE TABLE t (a)")`); msg != "" {
		t.Fatal(msg)
	}
	s.Close()
	for _, code := range []string{`db.query("SELECT * FROM t")`, `db.exec("DELETE FROM t")`, `db.tx(function() end)`} {
		msg := luaErr(L, `local ok, err = pcall(function() `+code+` end) assert(not ok) error(err, 0)`)
		if !strings.Contains(msg, "lsgi.db: the database is closed") {
			t.Errorf("%s after Close: %q", code, msg)
		}
	}
	// A state that had not used the database yet gets the same answer.
	L2 := servicesState(t, s, "other")
	if msg := luaErr(L2, `require("lsgi.db").query("SELECT 1")`); !strings.Contains(msg, "the database is closed") {
		t.Errorf("a fresh state after Close: %q", msg)
	}
}

// TestDBDeadline holds the app's write lock in one state, inside db.tx,
// and writes from another whose deadline is short: the second stops at its
// deadline (past it, the state itself raises, as the host's requests do),
// and the first commits afterwards.
func TestDBDeadline(t *testing.T) {
	s := sqliteServices(t, appdb.Config{})
	holder := servicesState(t, s, "dl")
	waiter := servicesState(t, s, "dl")
	if msg := luaErr(holder, `db = require "lsgi.db"; db.exec("CREATE TABLE t (a)")`); msg != "" {
		t.Fatal(msg)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	holder.SetGlobal("pause", holder.NewFunction(func(L *lua.LState) int {
		close(entered)
		<-release
		return 0
	}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if msg := luaErr(holder, `db.tx(function(tx) tx.exec("INSERT INTO t VALUES (1)") pause() end)`); msg != "" {
			t.Error(msg)
		}
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	waiter.SetContext(ctx)
	start := time.Now()
	msg := luaErr(waiter, `require("lsgi.db").exec("INSERT INTO t VALUES (2)")`)
	waiter.RemoveContext()
	if !strings.Contains(msg, "lsgi.db: ") || !strings.Contains(msg, "write lock") || !strings.Contains(msg, "deadline") {
		t.Errorf("waiter: %q", msg)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("waiter returned after %v", took)
	}
	close(release)
	wg.Wait()
	if msg := luaErr(waiter, `assert(require("lsgi.db").query("SELECT count(*) AS n FROM t")[1].n == 1)`); msg != "" {
		t.Error(msg)
	}
}

// TestDBAppsApart gives two apps of one host two databases.
func TestDBAppsApart(t *testing.T) {
	s := sqliteServices(t, appdb.Config{})
	a, b := servicesState(t, s, "a"), servicesState(t, s, "b")
	if msg := luaErr(a, `db = require "lsgi.db"; db.exec("CREATE TABLE mine (x)")`); msg != "" {
		t.Fatal(msg)
	}
	if msg := luaErr(b, `require("lsgi.db").query("SELECT * FROM mine")`); !strings.Contains(msg, "no such table: mine") {
		t.Errorf("app b sees app a's table: %q", msg)
	}
}

// TestDBZeroServices uses lsgi.db with a zero Services: SQLite files in
// DataDir, made on first use.
func TestDBZeroServices(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := &Services{DataDir: dir}
	defer s.Close()
	L := servicesState(t, s, "zero")
	if msg := luaErr(L, `local db = require "lsgi.db"; db.exec("CREATE TABLE t (a)"); db.exec("INSERT INTO t VALUES (1)")`); msg != "" {
		t.Fatal(msg)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "zero.db")); len(matches) != 1 {
		t.Errorf("no zero.db in %s", dir)
	}
}

// TestDBTxInterrupted stops a state at its deadline in the middle of
// db.tx, in an endless loop: the transaction is rolled back and the app's
// write lock freed, so that the next writer goes through at once.
func TestDBTxInterrupted(t *testing.T) {
	s := sqliteServices(t, appdb.Config{})
	stuck := servicesState(t, s, "stuck")
	if msg := luaErr(stuck, `db = require "lsgi.db"; db.exec("CREATE TABLE t (a)")`); msg != "" {
		t.Fatal(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	stuck.SetContext(ctx)
	msg := luaErr(stuck, `db.tx(function(tx) tx.exec("INSERT INTO t VALUES (1)") while true do end end)`)
	stuck.RemoveContext()
	if !strings.Contains(msg, "context deadline exceeded") {
		t.Errorf("stuck state: %q", msg)
	}
	next := servicesState(t, s, "stuck")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	next.SetContext(ctx2)
	if msg := luaErr(next, `
		local db = require "lsgi.db"
		db.exec("INSERT INTO t VALUES (2)")
		local rows = db.query("SELECT a FROM t")
		assert(#rows == 1 and rows[1].a == 2, "the interrupted transaction was not rolled back")`); msg != "" {
		t.Error(msg)
	}
}

// TestDBTxYield yields from inside db.tx in a coroutine, which Lua 5.1
// cannot do across a call into Go: the transaction is rolled back, never
// committed half done, and the app's write lock is free.
func TestDBTxYield(t *testing.T) {
	s := sqliteServices(t, appdb.Config{})
	L := servicesState(t, s, "yield")
	if msg := luaErr(L, `
		local db = require "lsgi.db"
		db.exec("CREATE TABLE t (a)")
		local co = coroutine.create(function()
			db.tx(function(tx)
				tx.exec("INSERT INTO t VALUES (1)")
				coroutine.yield("inside")
				tx.exec("INSERT INTO t VALUES (3)")
			end)
		end)
		coroutine.resume(co)
		assert(#db.query("SELECT a FROM t") == 0, "half of the transaction was committed")
		db.exec("INSERT INTO t VALUES (2)")
		assert(#db.query("SELECT a FROM t") == 1)`); msg != "" {
		t.Error(msg)
	}
}
