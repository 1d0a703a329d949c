-- Endless loops for the --timeout tests. PATH_INFO selects the case;
-- QUERY_STRING carries id=<id>.
local H = {{"Content-Type", "text/plain"}}

local Spinner = {}
Spinner.__index = Spinner
Spinner.__call = function(self)
  while true do end
end
function Spinner:close()
  self.log:write("CLOSED id=" .. self.id .. "\n")
end

local cases = {
  ["/before"] = function(environ, start_response)
    while true do end
  end,
  ["/after"] = function(environ, start_response)
    start_response("200 OK", H)
    return coroutine.wrap(function()
      coroutine.yield("partial")
      while true do end
    end)
  end,
  ["/close"] = function(environ, start_response)
    start_response("200 OK", H)
    local id = environ.QUERY_STRING:match("id=(%w+)") or "none"
    return setmetatable({id = id, log = environ["lsgi.errors"]}, Spinner)
  end,
  -- Counts requests in a global of the Lua state.
  ["/count"] = function(environ, start_response)
    count = (count or 0) + 1
    start_response("200 OK", H)
    return {"count=" .. count}
  end,
}

return function(environ, start_response)
  local case = cases[environ.PATH_INFO]
  if not case then
    start_response("404 Not Found", H)
    return {"no such case"}
  end
  return case(environ, start_response)
end
