-- Streams chunk 1 from an iterator object, works for 1.5 s, then streams
-- chunk 2.
local Stream = {}
Stream.__index = Stream
Stream.__call = function(self)
  self.step = self.step + 1
  if self.step == 1 then
    return "chunk1\n"
  elseif self.step == 2 then
    local t = os.clock()
    while os.clock() - t < 1.5 do end
    return "chunk2\n"
  end
  return nil
end

return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return setmetatable({step = 0}, Stream)
end
