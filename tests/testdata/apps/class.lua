-- App form 3: a "class" table. Calling it builds the response object, an
-- iterator object (its class has __call) that starts the response lazily on
-- its first step, like PEP 3333's AppClass.
local Hello = {}
Hello.__index = Hello

setmetatable(Hello, {
  __call = function(cls, environ, start_response)
    return setmetatable({start_response = start_response, step = 0}, cls)
  end,
})

Hello.__call = function(self)
  self.step = self.step + 1
  if self.step == 1 then
    self.start_response("200 OK", {{"Content-Type", "text/plain"}})
    return "hello from "
  elseif self.step == 2 then
    return "a class"
  end
  return nil
end

return Hello
