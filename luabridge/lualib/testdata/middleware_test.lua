-- Rules every middleware must keep (PEP 3333 "Middleware"; wsgi-rules M-*):
-- close() of the app's body reaches it exactly once on every path, the body
-- is never drained inside the call, and stacks of middleware compose.
local check = require "check"
local fake = require "fake"
local errors = require "lsgi.middleware.errors"
local headers = require "lsgi.middleware.headers"
local gzip = require "lsgi.middleware.gzip"
local static = require "lsgi.middleware.static"
local validator = require "lsgi.validator"
local Router = require "lsgi.router"

local T = {}

local LONG = string.rep("streamed text ", 50)

local wrappers = {
  errors = function(app) return errors(app, { dev = false, log = false }) end,
  headers = function(app) return headers(app, { { "X-A-SIMPLE-TOKEN", "1234567890" } }) end,
  gzip = function(app) return gzip(app) end,
  validator = function(app) return validator(app) end,
  static = function(app) return static(app) end,
  router = function(app) local r = Router(); r:any("/", app); return r end,
  stack = function(app)
    return errors(gzip(headers(validator(app), { { "X-Stack", "1" } })), { dev = false, log = false })
  end,
}

local function app_with(obj)
  return function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return obj
  end
end

local function names()
  local list = {}
  for name in pairs(wrappers) do list[#list + 1] = name end
  table.sort(list)
  return list
end

function T.test_close_once_after_normal_end()
  for _, name in ipairs(names()) do
    local obj, counter = fake.counting_body({ LONG, LONG, LONG })
    local res = fake.request(wrappers[name](app_with(obj)), { headers = { ["Accept-Encoding"] = "gzip" } })
    check.eq(res.error, nil, name)
    check.eq(counter.closes, 1, name)
    check.eq(counter.calls, 4, name .. ": three chunks, one end, never more")
  end
end

function T.test_close_once_after_error_in_body()
  for _, name in ipairs(names()) do
    local obj, counter = fake.counting_body({ LONG, LONG, LONG }, 2)
    fake.request(wrappers[name](app_with(obj)), {})
    check.eq(counter.closes, 1, name)
  end
end

function T.test_close_once_after_disconnect()
  for _, name in ipairs(names()) do
    local obj, counter = fake.counting_body({ LONG, LONG, LONG, LONG })
    local res = fake.request(wrappers[name](app_with(obj)), {}, { stop_after = 1 })
    check.ok(res.disconnected, name)
    check.eq(counter.closes, 1, name)
    check.ok(counter.calls < 4, name .. ": iteration stopped")
  end
end

function T.test_body_not_drained_inside_the_call()
  for _, name in ipairs(names()) do
    local obj, counter = fake.counting_body({ LONG, LONG })
    local app = wrappers[name](app_with(obj))
    local env = fake.environ {}
    local result = app(env, function() return function() end end)
    check.eq(counter.calls, 0, name .. ": no chunk pulled before the server asks")
    check.ok(result ~= nil, name)
  end
end

function T.test_stack_output()
  local obj = fake.counting_body({ LONG, LONG })
  local res = fake.request(wrappers.stack(app_with(obj)), { headers = { ["Accept-Encoding"] = "gzip" } })
  check.eq(res.status, "200 OK")
  check.eq(res:header("x-stack"), "1")
  check.eq(res:header("content-encoding"), "gzip")
  check.eq(require("gotest").gunzip(res.body), LONG .. LONG)
end

return T
