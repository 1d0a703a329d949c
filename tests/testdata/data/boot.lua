-- boot: creates its table from its main chunk, which runs in every Lua
-- state of the app, under the load bound.
local db = require "lsgi.db"

db.exec("CREATE TABLE IF NOT EXISTS visits (at TEXT NOT NULL)")

return function(environ, start_response)
  db.exec("INSERT INTO visits (at) VALUES (?)", environ.QUERY_STRING)
  local n = db.query("SELECT count(*) AS n FROM visits")[1].n
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { tostring(n) }
end
