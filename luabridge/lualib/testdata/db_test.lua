local check = require "check"
local db = require "lsgi.db"
local json = require "json"

local T = {}

local function notes_table()
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, author TEXT, score REAL)")
end

function T.test_query_and_exec()
  notes_table()
  local n, id = db.exec("INSERT INTO notes (text, author, score) VALUES (?, ?, ?)", "first", "Ann", 1.5)
  check.eq(n, 1)
  check.eq(id, 1)
  n, id = db.exec("INSERT INTO notes (text) VALUES (?)", "second")
  check.eq(id, 2)
  local rows = db.query("SELECT id, text, author, score FROM notes ORDER BY id")
  check.eq(#rows, 2)
  check.same(rows[1], { id = 1, text = "first", author = "Ann", score = 1.5 })
  check.eq(rows[2].author, db.null, "NULL is db.null")
  check.eq(db.null, json.null, "db.null is json.null")
  check.eq(db.backend, "sqlite")
  check.eq(json.encode(rows[2]), '{"author":null,"id":2,"score":null,"text":"second"}')
  check.eq(json.encode(db.query("SELECT * FROM notes WHERE id = ?", 99)), "[]", "no rows encode as []")
  check.eq(#db.query("SELECT * FROM notes WHERE author IS ?", db.null), 1, "db.null as a parameter")
  check.eq(#db.query("SELECT * FROM notes WHERE author IS ?", nil), 1, "nil as a parameter")
  n = db.exec("UPDATE notes SET score = ? WHERE id > ?", 2, 0)
  check.eq(n, 2)
end

function T.test_parameters_stay_data()
  notes_table()
  local hostile = "'); DROP TABLE notes; --"
  db.exec("INSERT INTO notes (text) VALUES (?)", hostile)
  local rows = db.query("SELECT text FROM notes WHERE text = ?", hostile)
  check.eq(#rows, 1)
  check.eq(rows[1].text, hostile)
  check.eq(db.query("SELECT count(*) AS n FROM notes")[1].n, 1, "the table is still there")
end

function T.test_parameter_types()
  local row = db.query("SELECT ? AS i, ? AS f, ? AS t, ? AS b, ? AS s, typeof(?) AS ti",
    42, 0.25, true, false, "x\0y", 7)[1]
  check.eq(row.i, 42)
  check.eq(row.f, 0.25)
  check.eq(row.t, 1, "SQLite stores true as 1")
  check.eq(row.b, 0)
  check.eq(row.s, "x\0y", "bytes are kept")
  check.eq(row.ti, "integer", "a whole number goes as an integer")
  check.raises(function() db.query("SELECT ?", {}) end, "a SQL parameter is a string, number, boolean, nil or db.null, not a table")
  check.raises(function() db.query("SELECT ?", print) end, "not a function")
  check.raises(function() db.query(42) end, "string expected")
end

function T.test_errors_name_statement_and_line()
  local err = check.raises(function() db.query("SELECT * FROM nowhere WHERE id = ?", 1) end)
  check.contains(err, "lsgi.db: ")
  check.contains(err, "no such table: nowhere")
  check.contains(err, '(in "SELECT * FROM nowhere WHERE id = ?")')
  check.matches(err, "^testdata/db_test.lua:%d+: ", "the caller's file and line")
  local ok, e = pcall(db.exec, "INSERT INTO nowhere VALUES (1)")
  check.no(ok)
  check.contains(e, "no such table")
end

function T.test_tx_commits()
  notes_table()
  local a, b = db.tx(function(tx, x)
    tx.exec("INSERT INTO notes (text) VALUES (?)", x)
    tx:exec("INSERT INTO notes (text) VALUES (?)", "colon")
    db.exec("INSERT INTO notes (text) VALUES (?)", "db.exec joins the transaction")
    return #tx:query("SELECT * FROM notes"), "done"
  end, "dot")
  check.eq(a, 3)
  check.eq(b, "done")
  check.eq(#db.query("SELECT * FROM notes"), 3)
end

function T.test_tx_rolls_back_and_reraises()
  notes_table()
  db.exec("INSERT INTO notes (text) VALUES ('kept')")
  local marker = {}
  local ok, err = pcall(db.tx, function(tx)
    tx.exec("INSERT INTO notes (text) VALUES ('gone')")
    db.exec("DELETE FROM notes WHERE text = 'kept'")
    error(marker)
  end)
  check.no(ok)
  check.eq(err, marker, "the same error value comes back")
  local rows = db.query("SELECT text FROM notes")
  check.eq(#rows, 1)
  check.eq(rows[1].text, "kept")

  err = check.raises(function()
    db.tx(function(tx) tx.exec("INSERT INTO notes (text) VALUES (NULL)") end)
  end, "NOT NULL constraint failed")
  check.eq(#db.query("SELECT text FROM notes"), 1)
end

function T.test_tx_misuse()
  notes_table()
  local saved
  db.tx(function(tx) saved = tx end)
  check.raises(function() saved.query("SELECT 1") end, "the transaction has ended")
  check.raises(function()
    db.tx(function() db.tx(function() end) end)
  end, "transactions do not nest")
  check.raises(function() db.tx("not a function") end, "function expected")
  -- After all that, the database still takes writes.
  db.exec("INSERT INTO notes (text) VALUES ('after')")
  check.eq(#db.query("SELECT * FROM notes"), 1)
end

function T.test_many_statements_in_exec()
  db.exec([[
    CREATE TABLE a (x INTEGER);
    CREATE TABLE b (y INTEGER);
    INSERT INTO a VALUES (1);
  ]])
  check.eq(db.query("SELECT x FROM a")[1].x, 1)
end

return T
