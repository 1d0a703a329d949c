-- hello.lua: the app that ships inside the example binary (embed.FS),
-- served at /lua/hello. It calls Go through the "greeter" module and reads
-- the per-request "example.user" entry that the Go program adds to environ.
local greeter = require "greeter"

return function(environ, start_response)
  local user = environ["example.user"] or "stranger"
  start_response("200 OK", {{"Content-Type", "text/plain; charset=utf-8"}})
  return {
    greeter.hello(user) .. "\n"
      .. "SCRIPT_NAME=" .. environ.SCRIPT_NAME .. " PATH_INFO=" .. environ.PATH_INFO .. "\n",
  }
end
