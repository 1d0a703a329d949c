-- require "json" gives the app's json.lua; lsgi.json stays the host's.
local mine = require "json"
local host = require "lsgi.json"
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {mine.origin .. " " .. host.encode({1, 2})}
end
