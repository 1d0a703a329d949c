-- Result form: a coroutine (thread), resumed until dead. Only yielded values
-- are chunks: the final return value is not part of the body.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return coroutine.create(function()
    coroutine.yield("x1 ")
    coroutine.yield("x2 ")
    coroutine.yield("x3")
    return "IGNORED"
  end)
end
