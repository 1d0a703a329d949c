-- A folder plugin: pkg/init.lua is mounted at /pkg and pkg/ is on the module
-- path, so require finds pkg/greeting.lua.
local greeting = require("greeting")

return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {greeting.text()}
end
