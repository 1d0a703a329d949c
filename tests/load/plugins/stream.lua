-- /stream: 100 chunks of 100 bytes from an iterator function. Each chunk
-- is flushed before the next is asked for (LSGI's streaming guarantee).
-- /stream?table=1 returns the same chunks as an array, which the host may
-- send together since no app code runs between them.
local CHUNK = string.rep("x", 99) .. "\n"
local ALL = {}
for i = 1, 100 do ALL[i] = CHUNK end

return function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  if environ.QUERY_STRING == "table=1" then
    return ALL
  end
  local i = 0
  return function()
    i = i + 1
    if i <= 100 then return CHUNK end
  end
end
