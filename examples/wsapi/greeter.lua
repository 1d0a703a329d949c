-- greeter: a WSAPI application (the Kepler project's Lua web server API),
-- written the way WSAPI apps are: a module whose run(wsapi_env) returns the
-- status, a table of headers and a body iterator. Nothing in it knows about
-- LSGI; init.lua mounts it.
local M = {}

local function escape(s)
  return (s:gsub("[<>&\"]", { ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;", ['"'] = "&quot;" }))
end

local function decode(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- GET /: a page greeting ?name=...
local function page(wsapi_env)
  local name = decode(wsapi_env.QUERY_STRING:match("name=([^&]*)") or "world")
  local function body()
    coroutine.yield("<h1>Hello, " .. escape(name) .. "!</h1>\n")
    coroutine.yield("<p>PATH_INFO is " .. escape(wsapi_env.PATH_INFO) .. "</p>\n")
    -- Undefined variables read as "" in a WSAPI environment.
    coroutine.yield("<p>Referer: [" .. escape(wsapi_env.HTTP_REFERER) .. "]</p>\n")
  end
  return 200, { ["Content-Type"] = "text/html; charset=utf-8" }, coroutine.wrap(body)
end

-- POST /echo: the request body back, with its size in a header.
local function echo(wsapi_env)
  local data = wsapi_env.input:read() or ""
  wsapi_env.error:write("echo: ", #data, " bytes\n")
  local sent = false
  return 200, { ["Content-Type"] = "text/plain", ["X-Body-Size"] = #data }, function()
    if sent then return nil end
    sent = true
    return data
  end
end

function M.run(wsapi_env)
  if wsapi_env.PATH_INFO == "/echo" and wsapi_env.REQUEST_METHOD == "POST" then
    return echo(wsapi_env)
  elseif wsapi_env.PATH_INFO == "/" then
    return page(wsapi_env)
  end
  return "404 Not Found", { ["Content-Type"] = "text/plain" }, coroutine.wrap(function()
    coroutine.yield("nothing at " .. wsapi_env.PATH_INFO .. "\n")
  end)
end

return M
