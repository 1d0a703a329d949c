-- echo.lua: echoes a fixed list of environ keys, one "KEY=value" line each
-- ("KEY absent" when the key is nil), then what lsgi.input holds. The list
-- leaves out the keys that name the listening socket (SERVER_NAME,
-- SERVER_PORT, HTTP_HOST), which differ from one host to the next.
local KEYS = {
  "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_URI",
  "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_PROTOCOL", "REMOTE_ADDR",
  "HTTP_X_SEED", "HTTP_COOKIE", "lsgi.version", "lsgi.url_scheme",
  "lsgi.multithread", "lsgi.multiprocess", "lsgi.run_once",
  "lsgi.input_terminated",
}

return function(environ, start_response)
  local lines = {}
  for _, key in ipairs(KEYS) do
    local value = environ[key]
    if value == nil then
      lines[#lines + 1] = key .. " absent"
    elseif type(value) == "table" then
      lines[#lines + 1] = key .. "=" .. table.concat(value, ".")
    else
      lines[#lines + 1] = key .. "=" .. tostring(value)
    end
  end
  lines[#lines + 1] = "body=" .. environ["lsgi.input"]:read()
  start_response("200 OK", {{"Content-Type", "text/plain; charset=utf-8"}})
  return {table.concat(lines, "\n") .. "\n"}
end
