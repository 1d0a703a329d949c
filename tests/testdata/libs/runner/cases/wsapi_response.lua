-- wsapi.response: building a response with buffering and cookies (WSAPI's
-- libraries page).
local response = require "wsapi.response"

local function show(status, headers, body)
  local names = {}
  for k in pairs(headers) do names[#names + 1] = k end
  table.sort(names)
  local parts = { tostring(status) }
  for _, k in ipairs(names) do
    local v = headers[k]
    if type(v) == "table" then v = table.concat(v, " | ") end
    parts[#parts + 1] = k .. ": " .. tostring(v)
  end
  local chunks = {}
  for chunk in body do chunks[#chunks + 1] = chunk end
  parts[#parts + 1] = "body[" .. #chunks .. "]: " .. table.concat(chunks)
  print(table.concat(parts, "\n"))
end

local res = response.new()
res:write("Hello, ", "World", { "!", " (", 2, ")" })
res:content_type("text/plain")
res:set_cookie("a", "1")
res:set_cookie("b", { value = "two words", path = "/", secure = true, httponly = true, domain = "example.org" })
res:set_cookie("c", { value = "x", expires = 0 })
res:delete_cookie("old", "/p")
show(res:finish())

local created = response.new(201, { ["X-Custom"] = "yes" })
created:write("made")
show(created:finish())

show(response.new():redirect("/elsewhere"))
print(response.new().headers["Content-Type"], response.new(404).status)
