-- /stream: 100 chunks of 100 bytes from an iterator function. No chunk
-- waits for the app: the host sends while the iterator runs, several
-- chunks per write when they pile up (docs/SPEC.md 7.4).
-- /stream?flush=1 asks for exact chunks: each is written and flushed on its
-- own before the next is asked for (the peer harness's "streamflush").
-- /stream?table=1 returns the same chunks as an array, which the host
-- sends together since no app code runs between them.
local CHUNK = string.rep("x", 99) .. "\n"
local ALL = {}
for i = 1, 100 do ALL[i] = CHUNK end

return function(environ, start_response)
  local query = environ.QUERY_STRING
  if query == "flush=1" then
    environ["lsgi.exact_chunks"] = true
  end
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  if query == "table=1" then
    return ALL
  end
  local i = 0
  return function()
    i = i + 1
    if i <= 100 then return CHUNK end
  end
end
