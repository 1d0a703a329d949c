package lualib

// This file implements lsgi.db (docs/modules/db.md): SQL from Lua, with
// parameters only, on the app's own database (package appdb).

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/lsgi/lsgi/appdb"
	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// noContextTimeout bounds a call made from a Lua state that has no
// context: a state a Go program runs by hand, outside any request.
const noContextTimeout = 30 * time.Second

// callContext returns the context a call from Lua runs under: the
// state's, which carries the request's deadline (or the load bound, in a
// main chunk), or a bound of its own in a state without one.
func callContext(L *lua.LState) (context.Context, context.CancelFunc) {
	if ctx := L.Context(); ctx != nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.Background(), noContextTimeout)
}

// dbRunner runs statements: the app's database, or a transaction on it.
type dbRunner interface {
	Query(ctx context.Context, query string, args ...any) (*appdb.Result, error)
	Exec(ctx context.Context, query string, args ...any) (appdb.Outcome, error)
}

// dbModule is lsgi.db in one Lua state.
type dbModule struct {
	s       *Shared
	db      *appdb.DB   // the app's database, once looked up
	tx      *dbTx       // the transaction db.tx is running, if any
	null    lua.LValue  // json.null, which stands for SQL NULL
	arrayMT *lua.LTable // json's array marker, so that [] encodes as []
}

// dbTx is one db.tx call's transaction.
type dbTx struct {
	tx   *appdb.Tx
	done bool
}

func (s *Shared) openDB(L *lua.LState) int {
	m := &dbModule{s: s}
	json := loadedModule(L, ModJSON, s.openJSON)
	m.null = L.GetField(json, "null")
	L.Push(L.GetField(json, "array"))
	if err := luabridge.PCall(L, 0, 1, nil); err == nil {
		if mt, ok := L.GetMetatable(L.Get(-1)).(*lua.LTable); ok {
			m.arrayMT = mt
		}
		L.Pop(1)
	}
	mod := newModule(L, map[string]lua.LGFunction{
		"query": m.query,
		"exec":  m.exec,
		"tx":    m.transaction,
	})
	mod.RawSetString("null", m.null)
	if mgr, err := m.s.services.database(); err == nil {
		mod.RawSetString("backend", lua.LString(mgr.Kind()))
	}
	L.Push(mod)
	return 1
}

// loadedModule returns the value of a Go module of the toolkit, loading it
// into package.loaded as require would if the state has not yet.
func loadedModule(L *lua.LState, name string, open lua.LGFunction) lua.LValue {
	loaded := L.GetField(L.Get(lua.RegistryIndex), "_LOADED")
	if v := L.GetField(loaded, name); v != lua.LNil {
		return v
	}
	L.Push(L.NewFunction(open))
	L.Push(lua.LString(name))
	L.Call(1, 1)
	v := L.Get(-1)
	L.Pop(1)
	L.SetField(loaded, name, v)
	return v
}

// runner is where a statement called through db.query or db.exec runs:
// inside the transaction of a db.tx in progress, else on the database.
func (m *dbModule) runner(L *lua.LState) dbRunner {
	if m.tx != nil {
		return m.tx.tx
	}
	return m.database(L)
}

// database returns the app's database, raising when there is none.
func (m *dbModule) database(L *lua.LState) *appdb.DB {
	if m.db != nil {
		return m.db
	}
	mgr, err := m.s.services.database()
	if err == nil {
		m.db, err = mgr.App(m.s.app)
	}
	if err != nil {
		L.RaiseError("lsgi.db: %s", dbMessage(err))
	}
	return m.db
}

// query: db.query(sql, ...) -> array of rows, each a table keyed by
// column name.
func (m *dbModule) query(L *lua.LState) int {
	return m.runQuery(L, m.runner(L), 1)
}

// exec: db.exec(sql, ...) -> rows affected, last insert id (nil where the
// backend has none).
func (m *dbModule) exec(L *lua.LState) int {
	return m.runExec(L, m.runner(L), 1)
}

// runQuery runs the statement at argument first and its parameters.
func (m *dbModule) runQuery(L *lua.LState, r dbRunner, first int) int {
	sql := checkLString(L, first)
	args := m.params(L, first+1)
	ctx, cancel := callContext(L)
	defer cancel()
	res, err := r.Query(ctx, sql, args...)
	if err != nil {
		L.RaiseError("lsgi.db: %s", dbMessage(err))
	}
	L.Push(m.rows(L, res))
	return 1
}

func (m *dbModule) runExec(L *lua.LState, r dbRunner, first int) int {
	sql := checkLString(L, first)
	args := m.params(L, first+1)
	ctx, cancel := callContext(L)
	defer cancel()
	out, err := r.Exec(ctx, sql, args...)
	if err != nil {
		L.RaiseError("lsgi.db: %s", dbMessage(err))
	}
	L.Push(lua.LNumber(out.RowsAffected))
	if out.HasLastInsertID {
		L.Push(lua.LNumber(out.LastInsertID))
	} else {
		L.Push(lua.LNil)
	}
	return 2
}

// params converts the arguments from index first on into SQL parameters.
// A number with no fraction goes as an integer, so that it compares equal
// to an INTEGER column; nil and db.null go as NULL.
func (m *dbModule) params(L *lua.LState, first int) []any {
	top := L.GetTop()
	if top < first {
		return nil
	}
	args := make([]any, 0, top-first+1)
	for i := first; i <= top; i++ {
		switch v := L.Get(i).(type) {
		case *lua.LNilType:
			args = append(args, nil)
		case lua.LBool:
			args = append(args, bool(v))
		case lua.LString:
			args = append(args, string(v))
		case lua.LNumber:
			f := float64(v)
			if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				args = append(args, int64(f))
			} else {
				args = append(args, f)
			}
		case *lua.LUserData:
			if _, ok := v.Value.(jsonNull); ok {
				args = append(args, nil)
				continue
			}
			L.ArgError(i, "a SQL parameter is a string, number, boolean, nil or db.null, not a userdata")
		default:
			L.ArgError(i, "a SQL parameter is a string, number, boolean, nil or db.null, not a "+v.Type().String())
		}
	}
	return args
}

// rows turns a result into an array of row tables.
func (m *dbModule) rows(L *lua.LState, res *appdb.Result) *lua.LTable {
	t := L.CreateTable(len(res.Rows), 0)
	if m.arrayMT != nil {
		t.Metatable = m.arrayMT
	}
	for _, r := range res.Rows {
		row := L.CreateTable(0, len(res.Columns))
		for i, v := range r {
			row.RawSetString(res.Columns[i], m.value(v))
		}
		t.Append(row)
	}
	return t
}

// value converts one value of a row to Lua.
func (m *dbModule) value(v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return m.null
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case []byte:
		return lua.LString(v)
	}
	return lua.LString("?")
}

// transaction: db.tx(f, ...) runs f(tx, ...) in a transaction, commits it
// when f returns and returns what f returned; when f raises, it rolls back
// and raises the same error again. Inside f, db.query and db.exec run in
// the transaction too.
func (m *dbModule) transaction(L *lua.LState) int {
	L.CheckFunction(1)
	if m.tx != nil {
		L.RaiseError("lsgi.db: db.tx called inside db.tx: transactions do not nest; run the statements in the open one")
	}
	ctx, cancel := callContext(L)
	defer cancel()
	tx, err := m.database(L).Begin(ctx)
	if err != nil {
		L.RaiseError("lsgi.db: %s", dbMessage(err))
	}
	t := &dbTx{tx: tx}
	m.tx = t
	defer func() {
		m.tx, t.done = nil, true
		tx.Rollback() // does nothing after a commit
	}()
	top := L.GetTop()
	L.Push(L.Get(1))
	L.Push(m.txHandle(L, t))
	for i := 2; i <= top; i++ {
		L.Push(L.Get(i))
	}
	if err := luabridge.PCall(L, top, lua.MultRet, nil); err != nil {
		tx.Rollback()
		if ctx.Err() != nil {
			panic(err) // a timeout or a disconnect: let the host see it
		}
		if ae, ok := err.(*lua.ApiError); ok {
			L.Error(ae.Object, 0)
		}
		L.RaiseError("lsgi.db: %s", err.Error())
	}
	m.tx, t.done = nil, true
	if L.G.CurrentThread != L {
		// f yielded: gopher-lua returns from PCall as if f had ended,
		// and the coroutine cannot be resumed properly. Never commit
		// half of f.
		tx.Rollback()
		m.s.logger.Warn("lsgi.db: the function given to db.tx yielded (coroutine.yield cannot cross db.tx); its transaction was rolled back", "app", m.s.app)
		return 0
	}
	if err := tx.Commit(); err != nil {
		L.RaiseError("lsgi.db: %s", dbMessage(err))
	}
	return L.GetTop() - top
}

// txHandle returns the table db.tx passes to its function: tx.query and
// tx.exec, callable with a dot or a colon.
func (m *dbModule) txHandle(L *lua.LState, t *dbTx) *lua.LTable {
	h := L.CreateTable(0, 2)
	first := func(L *lua.LState) int {
		if t.done {
			L.RaiseError("lsgi.db: the transaction has ended: use tx only inside the function given to db.tx")
		}
		if L.Get(1) == h {
			return 2
		}
		return 1
	}
	h.RawSetString("query", L.NewFunction(func(L *lua.LState) int {
		return m.runQuery(L, t.tx, first(L))
	}))
	h.RawSetString("exec", L.NewFunction(func(L *lua.LState) int {
		return m.runExec(L, t.tx, first(L))
	}))
	return h
}

// dbMessage turns an error of package appdb into the text of a Lua error:
// the database's own message and the statement, or the limit that was
// passed and the flag that sets it.
func dbMessage(err error) string {
	var (
		lim  *appdb.LimitError
		stmt *appdb.Error
	)
	switch {
	case errors.As(err, &lim) && lim.Rows:
		return "the result has more than " + itoa(lim.Limit) + " rows (the cap set by --db-max-rows): add a LIMIT, or fetch it in pages"
	case errors.As(err, &lim):
		return "the result holds more than " + itoa(lim.Limit) + " bytes (the cap set by --db-max-bytes): select fewer columns or rows"
	case errors.Is(err, appdb.ErrClosed) || errors.Is(err, errServicesClosed):
		return "the database is closed (the server is stopping)"
	case errors.As(err, &stmt) && stmt.SQL != "":
		return stmt.Err.Error() + " (in " + appdb.Excerpt(stmt.SQL) + ")"
	case errors.As(err, &stmt):
		return stmt.Op + ": " + stmt.Err.Error()
	}
	return err.Error()
}

func itoa(n int64) string { return lua.LNumber(n).String() }
