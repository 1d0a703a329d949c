-- Finding 2 and 4: Go calls that once ran unbounded. Each runs under
-- pcall and answers its error, which must name the limit that stopped it.
local json = require "lsgi.json"

local function shared(n)
  local t = {1}
  for i = 1, n do t = {t, t} end
  return t
end

local calls = {
  ["/find"] = function() return string.find(string.rep("a", 350), ".-.-.-b") end,
  ["/gsub"] = function() return string.gsub(string.rep("a", 350), ".-.-.-b", "x") end,
  ["/json"] = function() return json.encode(shared(25)) end,
  ["/not"] = function() return assert(loadstring("return " .. string.rep("not ", 1e6) .. "x")) end,
  ["/do"] = function() return assert(loadstring(string.rep("do ", 100000) .. string.rep("end ", 100000))) end,
  ["/minus"] = function() return assert(loadstring("return " .. string.rep("-", 60000) .. "1")) end,
}

return function(environ, start_response)
  local call = calls[environ.PATH_INFO]
  if not call then
    start_response("404 Not Found", {{"Content-Type", "text/plain"}})
    return {"no such call\n"}
  end
  local ok, err = pcall(call)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {tostring(ok) .. " " .. tostring(err) .. "\n"}
end
