-- env.lua: dumps every string and boolean entry of the environ as sorted
-- "KEY=value" lines, for tests that look at a few keys a front server sets
-- (REMOTE_ADDR, SERVER_NAME, lsgi.url_scheme, ...).
return function(environ, start_response)
  local lines = {}
  for key, value in pairs(environ) do
    local kind = type(value)
    if kind == "string" or kind == "boolean" then
      lines[#lines + 1] = key .. "=" .. tostring(value)
    end
  end
  table.sort(lines)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {table.concat(lines, "\n") .. "\n"}
end
