-- The same echo as echo.lua, mounted at /.
-- Echoes the environ, one line per key, sorted: "<key hex> <type> <value hex>".
-- Strings are sent as they are, booleans and numbers through tostring,
-- lsgi.version as "1,0"; other values only by type. Pseudo-keys: "@metatable"
-- (the type of getmetatable(environ)) and "@body" (lsgi.input:read()).
-- Afterwards it changes the environ, which must not leak into the next
-- request.
local function hex(s)
  return (s:gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

return function(environ, start_response)
  local lines = {}
  local function add(key, kind, value)
    lines[#lines + 1] = hex(key) .. " " .. kind .. " " .. hex(value)
  end
  for key, value in pairs(environ) do
    local kind = type(value)
    if kind == "string" then
      add(tostring(key), kind, value)
    elseif kind == "boolean" or kind == "number" then
      add(tostring(key), kind, tostring(value))
    elseif key == "lsgi.version" and kind == "table" then
      add(key, kind, table.concat(value, ","))
    else
      add(tostring(key), kind, "")
    end
  end
  add("@metatable", type(getmetatable(environ)), "")
  local input = environ["lsgi.input"]
  if input then
    local body = input:read()
    add("@body", type(body), body or "")
  end
  table.sort(lines)
  environ.LEAKED = "yes"
  environ.PATH_INFO = "/changed"
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {table.concat(lines, "\n") .. "\n"}
end
