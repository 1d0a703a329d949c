-- The LSGI side of the conformance suite: `lsgi call app.lua /CASE.lua`
-- runs the case in the app's fresh Lua state and answers what it printed.
local run = dofile("harness.lua")

return function(environ, start_response)
  local body = run(environ.PATH_INFO:sub(2))
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {body}
end
