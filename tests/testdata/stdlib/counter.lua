-- Counts the requests its Lua state has served.
local served = 0
return function(environ, start_response)
  served = served + 1
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {tostring(served)}
end
