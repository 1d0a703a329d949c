-- Raises after the first chunk of a body with a Content-Length went out.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}, {"Content-Length", "20"}})
  return coroutine.wrap(function()
    coroutine.yield("partial")
    error("late failure")
  end)
end
