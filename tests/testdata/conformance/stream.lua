-- stream.lua: a body of several chunks from a generator, an empty chunk
-- among them; its length is unknown when the headers go out. /write sends
-- the first chunk through write() instead.
return function(environ, start_response)
  local write = start_response("200 OK", {{"Content-Type", "text/plain"}, {"X-Accel-Buffering", "no"}})
  if environ.PATH_INFO == "/write" then
    write("chunk 0 from write\n")
  end
  return coroutine.wrap(function()
    coroutine.yield("chunk 1\n")
    coroutine.yield("")
    coroutine.yield("chunk 2\n")
    coroutine.yield("chunk 3\n")
  end)
end
