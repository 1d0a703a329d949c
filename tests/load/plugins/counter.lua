-- /counter: hello with a hit counter in lsgi.shared, which every Lua state
-- (and, with --shared redis://..., every host) shares.
local hits = require("lsgi.shared").hits

return function(environ, start_response)
  local n = hits:incr("hello", 1, 0)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { "Hello, visitor " .. n .. "!" }
end
