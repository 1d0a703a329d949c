-- counter: a hit counter in lsgi.shared, shared by every Lua state of the
-- app, and by every host that shares the store (--shared redis://...).
--   /         increments, answers "N STATE" (STATE names the Lua state)
--   /get      the count
--   /catch    increments under pcall: 503 with the error if the store fails
local shared = require "lsgi.shared"
local hits = shared.hits
local state = tostring({})

return function(environ, start_response)
  local path = environ.PATH_INFO
  local status, body = "200 OK", nil
  if path == "/get" then
    body = tostring(hits:get("n") or 0)
  elseif path == "/catch" then
    local ok, n = pcall(hits.incr, hits, "n", 1, 0)
    if ok then
      body = tostring(n)
    else
      status, body = "503 Service Unavailable", "store failed: " .. tostring(n)
    end
  else
    body = tostring((hits:incr("n", 1, 0))) .. " " .. state
  end
  start_response(status, { { "Content-Type", "text/plain" } })
  return { body }
end
