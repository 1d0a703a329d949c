-- dict: lsgi.shared's operations over HTTP, for the end-to-end tests.
--   /set?k=&v=&ttl=        d:set, answers "ok forcible"
--   /get?k=                d:get
--   /ttl?k=                d:ttl
--   /small/set?k=&size=    a value of size bytes in a 4 KiB dictionary
--   /small/get?k=          its length, or nil
--   /big                   a value larger than the small dictionary (500)
--   /big/caught            the same under pcall: the error message
local shared = require "lsgi.shared"
local Request = require "lsgi.request"
local d = shared.d
local small = shared.declare("small", { size = "4k" })

local function big() return small:set("big", string.rep("x", 5000)) end

return function(environ, start_response)
  local a = Request(environ).args
  local path = environ.PATH_INFO
  local out
  if path == "/set" then
    local ok, _, forcible = d:set(a.k, a.v, tonumber(a.ttl) or 0)
    out = tostring(ok) .. " " .. tostring(forcible)
  elseif path == "/get" then
    out = tostring(d:get(a.k))
  elseif path == "/ttl" then
    out = tostring(d:ttl(a.k))
  elseif path == "/small/set" then
    local ok, _, forcible = small:set(a.k, string.rep("v", tonumber(a.size)))
    out = tostring(ok) .. " " .. tostring(forcible)
  elseif path == "/small/get" then
    local v = small:get(a.k)
    out = v and tostring(#v) or "nil"
  elseif path == "/big" then
    big()
    out = "stored"
  elseif path == "/big/caught" then
    local _, err = pcall(big)
    out = tostring(err)
  else
    start_response("404 Not Found", { { "Content-Type", "text/plain" } })
    return { "no such route\n" }
  end
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { out }
end
