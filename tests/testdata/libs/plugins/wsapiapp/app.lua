-- app: a WSAPI application written with WSAPI's libraries (wsapi.request,
-- wsapi.response, wsapi.util). tests/libs_test.go serves it through
-- lsgi.wsapi over HTTP and runs it through wsapi.mock under lua5.1.
local request = require "wsapi.request"
local response = require "wsapi.response"
local util = require "wsapi.util"

local M = {}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local routes = {}

routes["/greet"] = function(req, res)
  res:write("Hello, ", req.params.name or "stranger", "!\n")
end

routes["/form"] = function(req, res)
  if req.method ~= "POST" then
    res.status = 405
    res.headers["Allow"] = "POST"
    return
  end
  for _, k in ipairs(sorted_keys(req.POST)) do
    res:write(k, "=", req.POST[k], "\n")
  end
end

routes["/cookie"] = function(req, res)
  local visits = tonumber(req.cookies.visits) or 0
  res:set_cookie("visits", tostring(visits + 1))
  res:set_cookie("seen", { value = "yes", path = "/", httponly = true })
  res:write("visits was ", tostring(req.cookies.visits), "\n")
end

routes["/escape"] = function(req, res)
  res:content_type("text/html")
  res:write("<p>", util.sanitize(req.params.text or ""), "</p>\n")
end

routes["/redirect"] = function(req, res)
  return res:redirect("/greet?name=" .. util.url_encode("again & again"))
end

routes["/stream"] = function()
  return 200, { ["Content-Type"] = "text/plain" }, coroutine.wrap(function()
    for i = 1, 3 do coroutine.yield("chunk " .. i .. "\n") end
  end)
end

function M.run(wsapi_env)
  local req = request.new(wsapi_env)
  local res = response.new(200, { ["Content-Type"] = "text/plain" })
  local route = routes[req.path_info]
  if not route then
    res.status = 404
    res:write("no route for ", req.path_info, "\n")
    return res:finish()
  end
  local status, headers, body = route(req, res)
  if status then return status, headers, body end
  return res:finish()
end

return M
