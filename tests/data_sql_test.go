package tests

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lsgi.db end to end: the real binary serves testdata/data (a folder plugin
// with migrations, and a plugin that makes its table from its main chunk)
// over SQLite by default and over a PostgreSQL server the test starts.

// hostile is a parameter that would drop the table if it were spliced into
// the statement.
const hostile = "'); DROP TABLE log; --"

// dataChecks runs what both backends must do: parameters stay data, a
// transaction's read-modify-write is never lost, statement errors name the
// statement and the app's line (500 uncaught, a Lua error when caught).
func dataChecks(t *testing.T, s *server) {
	t.Run("parameters stay data", func(t *testing.T) {
		for _, v := range []string{hostile, `" OR 1=1 --`, "?", "$1", "é ü 😀"} {
			s.request(t, http.MethodPost, "/store/put", strings.NewReader(v)).expect(t, "put "+v, 200, "ok")
			s.request(t, http.MethodPost, "/store/find", strings.NewReader(v)).expect(t, "find "+v, 200, "1:"+v)
		}
		s.get(t, "/store/count").expect(t, "count", 200, "log=5 counter=0")
	})

	t.Run("statement errors", func(t *testing.T) {
		mark := s.log.len()
		s.get(t, "/store/bad").expect(t, "uncaught", http.StatusInternalServerError, "500 Internal Server Error\n")
		line := awaitLogSince(t, s, mark, regexp.MustCompile(`missing`))
		for _, want := range []string{`lsgi.db: `, `(in \"SELECT * FROM missing WHERE id = ?\")`, `store/init.lua:48:`} {
			if !strings.Contains(line, want) {
				t.Errorf("log line lacks %s:\n%s", want, line)
			}
		}
		r := s.get(t, "/store/caught")
		r.expectStatus(t, "caught", 200)
		if !regexp.MustCompile(`^.*store/init\.lua:53: lsgi\.db: .*missing.* \(in "SELECT \* FROM missing WHERE id = \?"\)$`).MatchString(r.body) {
			t.Errorf("caught error %q", r.body)
		}
	})

	t.Run("many clients, one counter", func(t *testing.T) {
		const clients, each = 8, 25
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					for _, path := range []string{"/store/put", "/store/incr"} {
						r := s.request(t, http.MethodPost, path, strings.NewReader(fmt.Sprintf("c%d-%d", c, i)))
						if r.status != 200 {
							t.Errorf("POST %s: %d %s", path, r.status, r.body)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		s.get(t, "/store/count").expect(t, "count", 200, fmt.Sprintf("log=%d counter=%d", 5+clients*each, clients*each))
		if line, ok := s.log.find(regexp.MustCompile(`(?i)database is locked|SQLITE_BUSY`)); ok {
			t.Errorf("the log shows a lock error: %s", line)
		}
	})

	t.Run("table made by the main chunk", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.get(t, fmt.Sprintf("/boot?%d", i))
				r.expectStatus(t, "boot", 200)
			}()
		}
		wg.Wait()
		s.get(t, "/boot?last").expect(t, "boot count", 200, "13")
	})
}

func TestDBSQLite(t *testing.T) {
	s := startServer(t, "data", "--states", "8")
	dataChecks(t, s)
	for _, f := range []string{"store.db", "boot.db"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(s.dir), "data", f)); err != nil {
			t.Errorf("data/%s: %v", f, err)
		}
	}
}

func TestDBPostgres(t *testing.T) {
	pg := startPostgres(t)
	url := pg.NewDatabase(t)
	s := startServer(t, "data", "--states", "8", "--db", url)
	dataChecks(t, s)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables []string
	rows, err := conn.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema LIKE 'app_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	if got := strings.Join(tables, " "); got != "app_boot.visits app_store.counter app_store.log app_store.lsgi_migrations" {
		t.Errorf("tables %s: each app has its schema", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.dir), "data")); !os.IsNotExist(err) {
		t.Errorf("with --db no data folder is made (%v)", err)
	}
}

// TestDBMigrationsReload adds migrations to a running app: a good one is
// applied and the new version serves; a failing one changes nothing and
// the previous version keeps serving; fixed, it is applied once.
func TestDBMigrationsReload(t *testing.T) {
	s := startServer(t, "data")
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(s.dir, "store", filepath.FromSlash(name))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	initLua, err := os.ReadFile(filepath.Join(s.dir, "store", "init.lua"))
	if err != nil {
		t.Fatal(err)
	}
	version := func(v string) string {
		return strings.Replace(string(initLua), `local VERSION = "v1"`, `local VERSION = "`+v+`"`, 1)
	}
	s.request(t, http.MethodPost, "/store/put", strings.NewReader("before")).expect(t, "put", 200, "ok")

	mark := s.log.len()
	write("migrations/002_more.sql", "INSERT INTO log (v) VALUES ('from 002');")
	write("init.lua", version("v2"))
	awaitLogSince(t, s, mark, regexp.MustCompile(`msg="migration applied" app=store file=migrations/002_more.sql`))
	waitBody(t, s, "/store/version", "v2")
	s.get(t, "/store/count").expect(t, "after 002", 200, "log=2 counter=0")

	mark = s.log.len()
	write("migrations/003_bad.sql", "INSERT INTO log (v) VALUES ('from 003');\nINSERT INTO nowhere VALUES (1);")
	write("init.lua", version("v3"))
	line := awaitLogSince(t, s, mark, regexp.MustCompile(`app reload failed; the previous version keeps serving.*app=store`))
	if !strings.Contains(line, "003_bad.sql") || !strings.Contains(line, "nowhere") {
		t.Errorf("the failure does not name the migration and its error: %s", line)
	}
	s.get(t, "/store/version").expect(t, "after a failed migration", 200, "v2")
	s.get(t, "/store/count").expect(t, "after a failed migration", 200, "log=2 counter=0")

	mark = s.log.len()
	write("migrations/003_bad.sql", "INSERT INTO log (v) VALUES ('from 003');")
	awaitLogSince(t, s, mark, regexp.MustCompile(`msg="migration applied" app=store file=migrations/003_bad.sql`))
	waitBody(t, s, "/store/version", "v3")
	s.get(t, "/store/count").expect(t, "after the fix", 200, "log=3 counter=0")
	if n := s.log.count(regexp.MustCompile(`msg="migration applied" app=store file=migrations/002_more.sql`)); n != 1 {
		t.Errorf("002 applied %d times", n)
	}
}

// waitBody polls path until it answers 200 with body, within the reload
// bound.
func waitBody(t *testing.T, s *server, path, body string) {
	t.Helper()
	deadline := time.Now().Add(reloadTimeout)
	for {
		r := s.get(t, path)
		if r.status == 200 && r.body == body {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q, want %q within %v", path, r.status, r.body, body, reloadTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDBPostgresGoneAway stops PostgreSQL under a running server: requests
// get a 500 (or, caught, the error), promptly; the server stays up.
func TestDBPostgresGoneAway(t *testing.T) {
	pg := startPostgres(t)
	s := startServer(t, "data", "--db", pg.URL("postgres"))
	s.request(t, http.MethodPost, "/store/put", strings.NewReader("x")).expect(t, "put", 200, "ok")
	pg.Shutdown()
	for i := range 3 {
		start := time.Now()
		s.request(t, http.MethodPost, "/store/put", strings.NewReader("y")).
			expect(t, fmt.Sprintf("put %d with the database gone", i), http.StatusInternalServerError, "500 Internal Server Error\n")
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("attempt %d took %v", i, took)
		}
	}
	r := s.get(t, "/store/caught")
	r.expectStatus(t, "caught", 200)
	if !strings.Contains(r.body, "lsgi.db: ") {
		t.Errorf("caught error %q", r.body)
	}
}
