-- App form 2: an instance, a table whose metatable has __call.
local App = {}
App.__index = App

App.__call = function(self, environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {self.greeting}
end

return setmetatable({greeting = "hello from an instance"}, App)
