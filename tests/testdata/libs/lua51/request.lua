-- request: the lua5.1 side of tests/libs_test.go's WSAPI tests. It runs one
-- request through a WSAPI app with WSAPI's own mock connector (wsapi.mock)
-- and prints what a client would see, in the form the Go test builds from
-- the HTTP response:
--   status CODE
--   Name: value        for Content-Type, Content-Length, Location and each
--                      Set-Cookie, in that order
--   (empty line)
--   body
--
-- usage: lua5.1 request.lua APP METHOD PATH [PARAMS [NAME=VALUE ...]]
--   APP      a module name, or a file (NAME.lua) to dofile
--   PARAMS   a query string: the request's GET parameters, or its form body
--   NAME=VALUE  extra environment variables (SCRIPT_NAME, HTTP_COOKIE, ...)
local mock = require "wsapi.mock"
local util = require "wsapi.util"

local app_name, method, path, query = ...
local app
if app_name:match("%.lua$") then app = dofile(app_name) else app = require(app_name) end

local params = {}
for key, value in (query or ""):gmatch("([^&=]+)=([^&]*)") do
  params[util.url_decode(key)] = util.url_decode(value)
end
local extra = {}
for i = 5, select("#", ...) do
  local name, value = (select(i, ...)):match("^([^=]+)=(.*)$")
  extra[name] = value
end

local handler = mock.make_handler(app)
local res
if method == "POST" then
  res = handler:post(path, params, extra)
else
  res = handler:get(path, params, extra)
end

local function header(name)
  for k, v in pairs(res.headers or {}) do
    if k:lower() == name:lower() then return v end
  end
end

local out = { "status " .. tostring(res.code):match("^%d+") }
for _, name in ipairs({ "Content-Type", "Content-Length", "Location", "Set-Cookie" }) do
  local v = header(name)
  if type(v) ~= "table" then v = { v } end
  for _, one in ipairs(v) do out[#out + 1] = name .. ": " .. tostring(one) end
end
io.write(table.concat(out, "\n"), "\n\n", res.body or "") -- the mock reads an empty body as nil
