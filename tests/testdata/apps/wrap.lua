-- Result form: a coroutine.wrap generator.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return coroutine.wrap(function()
    coroutine.yield("x1 ")
    coroutine.yield("x2 ")
    coroutine.yield("x3")
  end)
end
