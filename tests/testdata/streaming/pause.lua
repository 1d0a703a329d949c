-- Yields a chunk, then works for 300 ms before the last one: the first
-- must not wait for that work. With ?exact=1 it asks for exact chunks.
return function(environ, start_response)
  if environ.QUERY_STRING == "exact=1" then
    environ["lsgi.exact_chunks"] = true
  end
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return coroutine.wrap(function()
    coroutine.yield("first\n")
    local t = os.clock()
    while os.clock() - t < 0.3 do end
    coroutine.yield("last\n")
  end)
end
