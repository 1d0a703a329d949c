-- body.lua: reads lsgi.input in pieces of at most 4 bytes until nil, and
-- reports what it read with the CONTENT_* variables.
return function(environ, start_response)
  local input = environ["lsgi.input"]
  local parts = {}
  for _ = 1, 100000 do
    local chunk = input:read(4)
    if not chunk then
      break
    end
    parts[#parts + 1] = chunk
  end
  local body = table.concat(parts)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {
    "method=" .. environ.REQUEST_METHOD
      .. "\ncontent_type=" .. tostring(environ.CONTENT_TYPE)
      .. "\ncontent_length=" .. tostring(environ.CONTENT_LENGTH)
      .. "\nread " .. #body .. " bytes in " .. #parts .. " pieces: " .. body .. "\n",
  }
end
