-- store: lsgi.db end to end. Each path is one operation; answers are text.
local db = require "lsgi.db"

local VERSION = "v1"

local function text(start_response, status, body)
  start_response(status, { { "Content-Type", "text/plain" } })
  return { body }
end

local routes = {}

-- POST /put: the request body becomes a row of log.
routes["POST /put"] = function(environ)
  local v = environ["lsgi.input"]:read()
  db.exec("INSERT INTO log (v) VALUES (?)", v)
  return "ok"
end

-- GET /find?v is given as the body of a POST: the rows equal to it.
routes["POST /find"] = function(environ)
  local v = environ["lsgi.input"]:read()
  local rows = db.query("SELECT v FROM log WHERE v = ?", v)
  local out = {}
  for _, row in ipairs(rows) do out[#out + 1] = row.v end
  return #rows .. ":" .. table.concat(out, "|")
end

-- POST /incr: read, add one, write back, in a transaction. PostgreSQL
-- runs it at READ COMMITTED, so the read locks the row it will change.
local lock = db.backend == "postgres" and " FOR UPDATE" or ""
routes["POST /incr"] = function()
  return tostring(db.tx(function(tx)
    local n = tx.query("SELECT n FROM counter" .. lock)[1].n
    tx.exec("UPDATE counter SET n = ?", n + 1)
    return n + 1
  end))
end

routes["GET /count"] = function()
  local log = db.query("SELECT count(*) AS n FROM log")[1].n
  local counter = db.query("SELECT n FROM counter")[1].n
  return "log=" .. log .. " counter=" .. counter
end

-- GET /bad: a statement on a table that does not exist, not caught.
routes["GET /bad"] = function()
  db.query("SELECT * FROM missing WHERE id = ?", 1)
end

-- GET /caught: the same error, caught: its text is the answer.
routes["GET /caught"] = function()
  local ok, err = pcall(db.query, "SELECT * FROM missing WHERE id = ?", 1)
  return ok and "no error" or err
end

routes["GET /version"] = function() return VERSION end

return function(environ, start_response)
  local route = routes[environ.REQUEST_METHOD .. " " .. environ.PATH_INFO]
  if not route then return text(start_response, "404 Not Found", "no route\n") end
  return text(start_response, "200 OK", route(environ))
end
