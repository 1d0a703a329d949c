-- An endless stream whose close() logs "CLOSED id=<id> calls=<n>". /sync
-- logs "SYNC id=<id>" (see close.lua).
local Ticker = {}
Ticker.__index = Ticker

Ticker.__call = function(self)
  self.calls = self.calls + 1
  return "tick " .. self.calls .. "\n"
end

function Ticker:close()
  self.log:write("CLOSED id=" .. self.id .. " calls=" .. self.calls .. "\n")
end

return function(environ, start_response)
  local id = environ.QUERY_STRING:match("id=(%w+)") or "none"
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  if environ.PATH_INFO == "/sync" then
    environ["lsgi.errors"]:write("SYNC id=" .. id .. "\n")
    return {"sync"}
  end
  return setmetatable({calls = 0, id = id, log = environ["lsgi.errors"]}, Ticker)
end
