-- Result form: an iterator object, a table whose metatable has __call.
local Iter = {}
Iter.__index = Iter
Iter.__call = function(self)
  self.i = self.i + 1
  return self.chunks[self.i]
end

return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return setmetatable({chunks = {"x1 ", "x2 ", "x3"}, i = 0}, Iter)
end
