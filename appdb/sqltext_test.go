package appdb

import (
	"strings"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		desc, in, want string
	}{
		{"no placeholders", "SELECT 1", "SELECT 1"},
		{"positional", "SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"in a string literal", "SELECT '?', ? FROM t", "SELECT '?', $1 FROM t"},
		{"doubled quote in a literal", "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"escape string with backslash quote", `SELECT E'a\'?', ?`, `SELECT E'a\'?', $1`},
		{"backslash in a standard string ends it", `SELECT 'a\', ?`, `SELECT 'a\', $1`},
		{"identifier ending in e is not an escape string", `SELECT name'?', ?`, `SELECT name'?', $1`},
		{"quoted identifier", `SELECT "a?b", ? FROM t`, `SELECT "a?b", $1 FROM t`},
		{"line comment", "SELECT ? -- is it ?\n, ?", "SELECT $1 -- is it ?\n, $2"},
		{"block comment, nested", "SELECT /* a /* ? */ ? */ ?", "SELECT /* a /* ? */ ? */ $1"},
		{"dollar quoted", "SELECT $$?$$, $tag$ ? $x$ ? $tag$, ?", "SELECT $$?$$, $tag$ ? $x$ ? $tag$, $1"},
		{"native parameter is not a dollar quote", "SELECT $1, ?", "SELECT $1, $1"},
		{"dollar inside an identifier", "SELECT a$b, ?", "SELECT a$b, $1"},
		{"double question mark is the operator", "SELECT data ?? 'k' FROM t WHERE id = ?", "SELECT data ? 'k' FROM t WHERE id = $1"},
		{"unterminated literal", "SELECT ?, 'oops ?", "SELECT $1, 'oops ?"},
		{"injection text stays in the literal", "SELECT '''); DROP TABLE notes; --?', ?", "SELECT '''); DROP TABLE notes; --?', $1"},
		{"ten and more", "VALUES (?,?,?,?,?,?,?,?,?,?,?)", "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("%s: rebind(%q) = %q, want %q", tc.desc, tc.in, got, tc.want)
		}
	}
}

func TestMayWrite(t *testing.T) {
	for _, tc := range []struct {
		desc, sql string
		want      bool
	}{
		{"select", "SELECT * FROM notes WHERE id = ?", false},
		{"lower case with comment first", "-- list\nselect 1", false},
		{"values", "VALUES (1)", false},
		{"with select", "WITH x AS (SELECT 1) SELECT * FROM x", false},
		{"insert", "INSERT INTO t VALUES (?)", true},
		{"insert returning", "INSERT INTO t (a) VALUES (?) RETURNING id", true},
		{"with insert", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", true},
		{"update", "update t set a = 1", true},
		{"delete", "DELETE FROM t", true},
		{"replace statement", "REPLACE INTO t VALUES (1)", true},
		{"replace function", "SELECT replace(name, 'a', 'b') FROM t", false},
		{"keyword in a literal", "SELECT 'DELETE' FROM t", false},
		{"keyword as a quoted name", `SELECT "update" FROM t`, false},
		{"pragma", "PRAGMA user_version = 3", true},
		{"create", "CREATE TABLE t (a)", true},
		{"empty", "", true},
	} {
		if got := mayWrite(tc.sql); got != tc.want {
			t.Errorf("%s: mayWrite(%q) = %v, want %v", tc.desc, tc.sql, got, tc.want)
		}
	}
}

func TestFileName(t *testing.T) {
	for _, tc := range []struct {
		desc, app, want string
		err             bool
	}{
		{"plain", "notes", "notes.db", false},
		{"root app", "index", "index.db", false},
		{"dots, dashes, underscores", "my-app_v1.2", "my-app_v1.2.db", false},
		{"leading dot", ".hidden", "%2Ehidden.db", false},
		{"parent folder", "..", "%2E..db", false},
		{"slash", "a/b", "a%2Fb.db", false},
		{"space and percent", "my app%", "my%20app%25.db", false},
		{"empty", "", "", true},
	} {
		got, err := fileName(tc.app)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: fileName(%q) = %q, %v; want %q, error %v", tc.desc, tc.app, got, err, tc.want, tc.err)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		desc, in, want string
	}{
		{"password", "postgres://ann:secret@db:5432/app", "postgres://ann:xxxxx@db:5432/app"},
		{"no password", "postgres://ann@db/app", "postgres://ann@db/app"},
		{"no user", "postgres://db/app?sslmode=disable", "postgres://db/app?sslmode=disable"},
		{"@ in the query only", "postgres://db/app?options=a@b", "postgres://db/app?options=a@b"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("%s: redact(%q) = %q, want %q", tc.desc, tc.in, got, tc.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := "SELECT " + strings.Repeat("x, ", 100) + "y FROM t"
	for _, tc := range []struct {
		desc, in, want string
	}{
		{"one line", "SELECT 1", `"SELECT 1"`},
		{"white space folded", "SELECT *\n  FROM t\n\tWHERE a = ?\n", `"SELECT * FROM t WHERE a = ?"`},
		{"cut", long, `"` + long[:200] + `"...`},
	} {
		if got := Excerpt(tc.in); got != tc.want {
			t.Errorf("%s: Excerpt = %s, want %s", tc.desc, got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	midnight := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		desc string
		in   any
		date bool
		want any
		size int64
	}{
		{"null", nil, false, nil, 8},
		{"integer", int64(7), false, int64(7), 8},
		{"text", "héllo", false, "héllo", 6},
		{"timestamp in UTC", at, false, "2024-05-01T10:30:00Z", 20},
		{"date", midnight, true, "2024-05-01", 10},
		{"date column holding a time of day", at, true, "2024-05-01T10:30:00Z", 20},
		{"int32", int32(3), false, int64(3), 8},
	} {
		got, size := normalize(tc.in, tc.date)
		if got != tc.want || size != tc.size {
			t.Errorf("%s: normalize(%v) = %#v, %d; want %#v, %d", tc.desc, tc.in, got, size, tc.want, tc.size)
		}
	}
}
