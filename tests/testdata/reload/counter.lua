-- A plugin with module-level state: a global counter that each request
-- increments. With --states 1 every request runs on the same Lua state, so
-- the count goes on as long as this version of the plugin serves, and starts
-- again from 1 in a new version.
count = 0

return function(environ, start_response)
  count = count + 1
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"counter:" .. count}
end
