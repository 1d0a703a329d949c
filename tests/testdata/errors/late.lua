-- Raises after the first chunk went out.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return coroutine.wrap(function()
    coroutine.yield("partial")
    error("late failure")
  end)
end
