package appdb

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsgi/lsgi/internal/pgtest"
)

// TestPostgresSchemasApart runs two apps whose tables share a name but not
// a shape over a pool of one connection, so that every statement switches
// the connection between the apps' schemas: each app must see its own
// table, and no cached statement may leak from one app to the other.
func TestPostgresSchemasApart(t *testing.T) {
	m := newPostgres(t, Config{MaxConns: 1})
	a, _ := m.App("a")
	b, _ := m.App("b")
	mustExec(t, a, "CREATE TABLE items (id INTEGER, name TEXT)")
	mustExec(t, b, "CREATE TABLE items (sku TEXT, price REAL, stock INTEGER)")
	mustExec(t, a, "INSERT INTO items VALUES (?, ?)", 1, "apple")
	mustExec(t, b, "INSERT INTO items VALUES (?, ?, ?)", "X1", 2.5, 9)
	for i := range 5 {
		ra := mustQuery(t, a, "SELECT * FROM items WHERE 1 = ?", 1)
		rb := mustQuery(t, b, "SELECT * FROM items WHERE 1 = ?", 1)
		if fmt.Sprint(ra.Columns, ra.Rows) != "[id name] [[1 apple]]" || fmt.Sprint(rb.Columns, rb.Rows) != "[sku price stock] [[X1 2.5 9]]" {
			t.Fatalf("round %d: a sees %v %v, b sees %v %v", i, ra.Columns, ra.Rows, rb.Columns, rb.Rows)
		}
	}
	res := mustQuery(t, a, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'app_%' ORDER BY 1")
	if fmt.Sprint(res.Rows) != "[[app_a] [app_b]]" {
		t.Errorf("schemas %v, want app_a and app_b", res.Rows)
	}
	res = mustQuery(t, b, "SELECT current_schemas(false)")
	if fmt.Sprint(res.Rows) != "[[{app_b}]]" {
		t.Errorf("search_path of b: %v", res.Rows)
	}
}

// TestPostgresPlaceholders checks the `?` translation against the server:
// question marks in literals, identifiers and comments are left alone, and
// `??` is the jsonb operator.
func TestPostgresPlaceholders(t *testing.T) {
	m := newPostgres(t, Config{})
	d, _ := m.App("ph")
	mustExec(t, d, `CREATE TABLE "odd?name" (doc JSONB)`)
	mustExec(t, d, `INSERT INTO "odd?name" VALUES (?::jsonb)`, `{"k": 1}`)
	res := mustQuery(t, d, `SELECT '?' AS lit, $$?$$ AS dollar, ? AS param, doc ?? ? AS has /* ? */ FROM "odd?name"`, "p", "k")
	if fmt.Sprint(res.Rows) != "[[? ? p true]]" {
		t.Errorf("got %v", res.Rows)
	}
	// Without parameters the text goes as written, `?` operator included.
	res = mustQuery(t, d, `SELECT doc ? 'k' AS has FROM "odd?name"`)
	if fmt.Sprint(res.Rows) != "[[true]]" {
		t.Errorf("without parameters: %v", res.Rows)
	}
}

// TestPostgresConcurrentApps drives several apps from many goroutines over
// a small pool.
func TestPostgresConcurrentApps(t *testing.T) {
	m := newPostgres(t, Config{MaxConns: 3})
	apps := []string{"p", "q", "r"}
	for _, app := range apps {
		d, _ := m.App(app)
		mustExec(t, d, "CREATE TABLE hits (app TEXT)")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, _ := m.App(apps[g%3])
			for range 30 {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				_, err := d.Exec(ctx, "INSERT INTO hits VALUES (?)", d.App())
				if err == nil {
					_, err = d.Query(ctx, "SELECT count(*) FROM hits WHERE app <> ?", d.App())
				}
				cancel()
				if err != nil {
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
	for _, app := range apps {
		d, _ := m.App(app)
		res := mustQuery(t, d, "SELECT app, count(*) FROM hits GROUP BY app")
		if fmt.Sprint(res.Rows) != fmt.Sprintf("[[%s 120]]", app) {
			t.Errorf("app %s: %v", app, res.Rows)
		}
	}
}

// TestPostgresGoneAway stops the server under a Manager: statements fail
// with an error, promptly, and nothing hangs.
func TestPostgresGoneAway(t *testing.T) {
	pgtest.Require(t) // skips without PostgreSQL
	srv, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	m, err := New(Config{URL: srv.URL("postgres"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d, _ := m.App("gone")
	mustExec(t, d, "CREATE TABLE t (a INTEGER)")
	srv.Shutdown()
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		_, err := d.Query(ctx, "SELECT a FROM t WHERE a = ?", i)
		cancel()
		if err == nil {
			t.Fatal("a query to a stopped server succeeded")
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("attempt %d took %v", i, took)
		}
		if !strings.Contains(err.Error(), "appdb: query") {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
}

func TestNewRefusesOtherURLs(t *testing.T) {
	for _, tc := range []struct {
		desc, url string
	}{
		{"mysql", "mysql://root@localhost/app"},
		{"a file", "/var/lib/app.db"},
		{"bad postgres URL", "postgres://[::1"},
	} {
		if _, err := New(Config{URL: tc.url}); err == nil {
			t.Errorf("%s: New(%q) accepted it", tc.desc, tc.url)
		}
	}
	if _, err := New(Config{URL: "postgres://ann:s3cret@127.0.0.1:1/x"}); err != nil {
		t.Errorf("a valid URL: %v", err)
	}
}
