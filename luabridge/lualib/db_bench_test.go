package lualib

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lsgi/lsgi/appdb"
	lua "github.com/yuin/gopher-lua"
)

// BenchmarkDBQuery is db.query of one row by primary key on SQLite, from
// Lua, beside the same query through appdb from Go and through
// database/sql alone (QueryRow and Scan): what lsgi.db adds to the driver,
// first in appdb (the write check, the caps, the copy into a Result), then
// in Lua (parameters in, a row table out).
func BenchmarkDBQuery(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "data")
	m, err := appdb.New(appdb.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	s := &Services{DB: m}
	defer s.Close()
	d, err := m.App("bench")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Exec(ctx, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, author TEXT)"); err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= 100; i++ {
		if _, err := d.Exec(ctx, "INSERT INTO notes (id, text, author) VALUES (?, ?, ?)", i, "note text of some length", "Ann"); err != nil {
			b.Fatal(err)
		}
	}
	const query = "SELECT id, text, author FROM notes WHERE id = ?"

	b.Run("lua", func(b *testing.B) {
		L := newSafeState(b)
		NewShared(Options{App: "bench", Services: s}).Preload(L)
		if err := L.DoString(`
			local db = require "lsgi.db"
			function one(id)
				local row = db.query("` + query + `", id)[1]
				return row.text
			end`); err != nil {
			b.Fatal(err)
		}
		fn := L.GetGlobal("one")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, lua.LNumber(i%100+1)); err != nil {
				b.Fatal(err)
			}
			L.Pop(1)
		}
	})
	b.Run("appdb", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			res, err := d.Query(ctx, query, i%100+1)
			if err != nil || len(res.Rows) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("database-sql", func(b *testing.B) {
		raw, err := sql.Open("sqlite", filepath.Join(dir, "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var (
				id           int64
				text, author string
			)
			if err := raw.QueryRowContext(ctx, query, i%100+1).Scan(&id, &text, &author); err != nil {
				b.Fatal(err)
			}
		}
	})
}
