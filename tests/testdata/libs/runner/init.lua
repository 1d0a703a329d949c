-- The LSGI side of tests/libs_test.go: GET /FOLDER/NAME runs cases/NAME.lua
-- with run.lua and answers with what the case printed.
local run = require "run"

return function(environ, start_response)
  local name = environ.PATH_INFO:match("^/([%w_]+)$")
  if not name then
    start_response("404 Not Found", { { "Content-Type", "text/plain" } })
    return { "no such case\n" }
  end
  local output = run(name)
  start_response("200 OK", { { "Content-Type", "text/plain; charset=utf-8" } })
  return { output }
end
