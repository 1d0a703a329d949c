-- A coroutine.wrap generator that calls start_response itself, on its
-- first step, after an empty chunk.
return function(environ, start_response)
  return coroutine.wrap(function()
    coroutine.yield("")
    start_response("200 OK", {{"Content-Type", "text/plain"}})
    coroutine.yield("x1 ")
    coroutine.yield("x2 ")
    coroutine.yield("x3")
  end)
end
