-- A folder plugin: site/init.lua is mounted at /site and requires modules
-- from its own folder, one of them in a subfolder.
local greeting = require("greeting")
local words = require("lib.words")

return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {greeting.text, " ", words.text}
end
