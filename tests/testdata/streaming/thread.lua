-- Streams chunk 1 from a coroutine, works for 1.5 s, then streams chunk 2.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return coroutine.create(function()
    coroutine.yield("chunk1\n")
    local t = os.clock()
    while os.clock() - t < 1.5 do end
    coroutine.yield("chunk2\n")
  end)
end
