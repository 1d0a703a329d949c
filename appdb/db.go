package appdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
)

// DB is one app's database. It is safe for concurrent use.
type DB struct {
	m      *Manager
	app    string
	kind   Kind
	sql    *sql.DB
	closed atomic.Bool

	// SQLite: the app's write lock, a token taken by every statement that
	// may write and by every transaction.
	write chan struct{}

	// PostgreSQL: the app's schema, as a name and as a quoted identifier,
	// created on first use.
	schema, quoted string
	schemaLock     chan struct{} // held while the schema is being created
	schemaReady    atomic.Bool
}

// Result is what a query returns: its column names and rows. A row holds
// one value per column, in order: nil, int64, float64, bool, string or
// []byte.
type Result struct {
	Columns []string
	Rows    [][]any
}

// Outcome is what a statement run with [DB.Exec] reports.
type Outcome struct {
	// RowsAffected counts the rows changed.
	RowsAffected int64
	// LastInsertID is SQLite's last_insert_rowid(); HasLastInsertID is
	// false on PostgreSQL, which has none (use INSERT ... RETURNING).
	LastInsertID    int64
	HasLastInsertID bool
}

// Error is a statement that failed: the database's error and the statement
// as the app wrote it.
type Error struct {
	Op  string // "query", "exec", "begin", "commit", "rollback"
	SQL string // "" for begin, commit and rollback
	Err error
}

func (e *Error) Error() string {
	if e.SQL == "" {
		return fmt.Sprintf("appdb: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("appdb: %s: %v (in %s)", e.Op, e.Err, Excerpt(e.SQL))
}

func (e *Error) Unwrap() error { return e.Err }

// excerptLen bounds a statement quoted in an error message.
const excerptLen = 200

// Excerpt returns a statement quoted for a message: on one line, cut to a
// couple of hundred bytes.
func Excerpt(sql string) string {
	b := make([]byte, 0, min(len(sql), excerptLen)+8)
	space := false
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		if c == '\n' || c == '\r' || c == '\t' || c == ' ' {
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		if len(b) >= excerptLen {
			return fmt.Sprintf("%q...", b)
		}
		b = append(b, c)
	}
	return fmt.Sprintf("%q", b)
}

// LimitError is a result over one of the caps of [Config].
type LimitError struct {
	Rows  bool  // the row cap, else the byte cap
	Limit int64 // the cap that was passed
}

func (e *LimitError) Error() string {
	if e.Rows {
		return fmt.Sprintf("appdb: the result has more than %d rows", e.Limit)
	}
	return fmt.Sprintf("appdb: the result holds more than %d bytes", e.Limit)
}

// App returns the app's name.
func (d *DB) App() string { return d.app }

// Kind returns the backend.
func (d *DB) Kind() Kind { return d.kind }

func (d *DB) markClosed() { d.closed.Store(true) }

// querier runs statements: a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// session is where one statement runs, and how to give it back.
type session struct {
	q       querier
	release func()
}

// open finds where a statement outside a transaction runs: for SQLite,
// the app's pool, after taking the write lock if the statement may write;
// for PostgreSQL, a connection whose search_path is the app's schema.
func (d *DB) open(ctx context.Context, query string, exec bool) (session, error) {
	if d.closed.Load() {
		return session{}, ErrClosed
	}
	if d.kind == Postgres {
		c, err := d.pgConn(ctx)
		if err != nil {
			return session{}, err
		}
		return session{q: c, release: func() { c.Close() }}, nil
	}
	if exec || mayWrite(query) {
		if err := d.lockWrite(ctx); err != nil {
			return session{}, err
		}
		return session{q: d.sql, release: d.unlockWrite}, nil
	}
	return session{q: d.sql, release: func() {}}, nil
}

// Query runs a statement that returns rows, with args for its `?`
// placeholders.
func (d *DB) Query(ctx context.Context, query string, args ...any) (*Result, error) {
	s, err := d.open(ctx, query, false)
	if err != nil {
		return nil, &Error{Op: "query", SQL: query, Err: err}
	}
	defer s.release()
	return d.query(ctx, s.q, query, args)
}

// Exec runs a statement that returns no rows, with args for its `?`
// placeholders. Without args, the text may hold several statements.
func (d *DB) Exec(ctx context.Context, query string, args ...any) (Outcome, error) {
	s, err := d.open(ctx, query, true)
	if err != nil {
		return Outcome{}, &Error{Op: "exec", SQL: query, Err: err}
	}
	defer s.release()
	return d.exec(ctx, s.q, query, args)
}

func (d *DB) query(ctx context.Context, q querier, query string, args []any) (*Result, error) {
	rows, err := q.QueryContext(ctx, d.native(query, len(args)), args...)
	if err != nil {
		return nil, &Error{Op: "query", SQL: query, Err: err}
	}
	defer rows.Close()
	res, err := d.collect(rows)
	if err != nil {
		var lim *LimitError
		if errors.As(err, &lim) {
			return nil, err
		}
		return nil, &Error{Op: "query", SQL: query, Err: err}
	}
	return res, nil
}

func (d *DB) exec(ctx context.Context, q querier, query string, args []any) (Outcome, error) {
	if d.kind == SQLite && blank(query) {
		// modernc.org/sqlite gives no result for a text without a
		// statement (an empty migration), which database/sql cannot take.
		return Outcome{}, nil
	}
	r, err := q.ExecContext(ctx, d.native(query, len(args)), args...)
	if err != nil {
		return Outcome{}, &Error{Op: "exec", SQL: query, Err: err}
	}
	var out Outcome
	if n, err := r.RowsAffected(); err == nil {
		out.RowsAffected = n
	}
	if d.kind == SQLite {
		if id, err := r.LastInsertId(); err == nil {
			out.LastInsertID, out.HasLastInsertID = id, true
		}
	}
	return out, nil
}

// native translates the app's placeholders for the backend. A statement
// without parameters is sent as written: it has no placeholders, and a
// migration may hold PostgreSQL's `?` operators as they are.
func (d *DB) native(query string, nargs int) string {
	if d.kind == Postgres && nargs > 0 {
		return rebind(query)
	}
	return query
}

// collect reads rows into a Result, within the Manager's caps.
func (d *DB) collect(rows *sql.Rows) (*Result, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	dates := make([]bool, len(cols))
	if types, err := rows.ColumnTypes(); err == nil {
		for i, t := range types {
			dates[i] = isDateType(t.DatabaseTypeName())
		}
	}
	maxRows, maxBytes := d.m.cfg.MaxRows, d.m.cfg.MaxBytes
	res := &Result{Columns: cols, Rows: [][]any{}}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var size int64
	for rows.Next() {
		if len(res.Rows) >= maxRows {
			return nil, &LimitError{Rows: true, Limit: int64(maxRows)}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			var n int64
			row[i], n = normalize(v, dates[i])
			size += n
		}
		if size > maxBytes {
			return nil, &LimitError{Limit: maxBytes}
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// Tx is a transaction on one app's database. It belongs to one goroutine.
// Every Tx must end with [Tx.Commit] or [Tx.Rollback]: on SQLite it holds
// the app's write lock until then.
type Tx struct {
	d       *DB
	tx      *sql.Tx
	release func()
	done    bool
}

// Begin starts a transaction. On SQLite it first takes the app's write
// lock (waiting at most until ctx ends), then begins IMMEDIATE. The
// transaction is rolled back if ctx ends before it does.
func (d *DB) Begin(ctx context.Context) (*Tx, error) {
	if d.closed.Load() {
		return nil, &Error{Op: "begin", Err: ErrClosed}
	}
	var (
		q interface {
			BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
		}
		release func()
	)
	if d.kind == Postgres {
		c, err := d.pgConn(ctx)
		if err != nil {
			return nil, &Error{Op: "begin", Err: err}
		}
		q, release = c, func() { c.Close() }
	} else {
		if err := d.lockWrite(ctx); err != nil {
			return nil, &Error{Op: "begin", Err: err}
		}
		q, release = d.sql, d.unlockWrite
	}
	tx, err := q.BeginTx(ctx, nil)
	if err != nil {
		release()
		return nil, &Error{Op: "begin", Err: err}
	}
	return &Tx{d: d, tx: tx, release: release}, nil
}

// errTxDone is returned by a Tx used after it ended.
var errTxDone = errors.New("appdb: the transaction has already ended")

// Query is [DB.Query] inside the transaction.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*Result, error) {
	if t.done {
		return nil, &Error{Op: "query", SQL: query, Err: errTxDone}
	}
	return t.d.query(ctx, t.tx, query, args)
}

// Exec is [DB.Exec] inside the transaction.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (Outcome, error) {
	if t.done {
		return Outcome{}, &Error{Op: "exec", SQL: query, Err: errTxDone}
	}
	return t.d.exec(ctx, t.tx, query, args)
}

// Commit commits the transaction and releases what it held.
func (t *Tx) Commit() error { return t.end("commit", t.tx.Commit) }

// Rollback rolls the transaction back and releases what it held. Rolling
// back an ended transaction does nothing.
func (t *Tx) Rollback() error {
	if t.done {
		return nil
	}
	return t.end("rollback", t.tx.Rollback)
}

func (t *Tx) end(op string, f func() error) error {
	if t.done {
		return &Error{Op: op, Err: errTxDone}
	}
	t.done = true
	defer t.release()
	if err := f(); err != nil {
		return &Error{Op: op, Err: err}
	}
	return nil
}

// lockWrite takes the app's SQLite write lock, waiting at most until ctx
// ends.
func (d *DB) lockWrite(ctx context.Context) error {
	select {
	case d.write <- struct{}{}:
		return nil
	default:
	}
	select {
	case d.write <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the app's write lock: %w", ctx.Err())
	}
}

func (d *DB) unlockWrite() { <-d.write }
