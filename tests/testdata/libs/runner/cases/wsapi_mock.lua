-- wsapi.mock: WSAPI's mock connector for tests (the manual's "Testing WSAPI
-- applications").
local connector = require "wsapi.mock"
local request = require "wsapi.request"
local response = require "wsapi.response"

local function greet(wsapi_env)
  return 200, { ["Content-Type"] = "text/plain" }, coroutine.wrap(function()
    coroutine.yield("greetings from " .. wsapi_env.PATH_INFO)
  end)
end

local app = connector.make_handler(greet)
local res, req = app:get("/hi", { who = "you" })
print(res.code, req.request_method, req.query_string, res.headers["Content-Type"], res.body)

local echo = connector.make_handler(function(env)
  local r = request.new(env)
  local out = response.new(200, { ["Content-Type"] = "text/plain" })
  out:write(r.method, " ", r.path_info, " name=", tostring(r.params.name))
  return out:finish()
end)
res = echo:post("/form", { name = "Ann" }, {})
print(res.code, res.body, res.headers["Content-Length"])
res = echo:get("/q", { name = "Bob" })
print(res.code, res.body)

local failing = connector.make_handler(function() error("app failed", 0) end)
res = failing:get("/")
print(res.code, res.body:match("There was an error") ~= nil, res.wsapi_errors:match("app failed") ~= nil)
