local check = require "check"
local fake = require "fake"
local gotest = require "gotest"
local errors = require "lsgi.middleware.errors"
local Response = require "lsgi.response"
local Request = require "lsgi.request"

local T = {}

local function failing(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } }) -- replaced through exc_info
  local secret = "secret-token-123"
  error("database exploded: " .. secret)
end

function T.test_plain_500_hides_the_error()
  local res = fake.request(errors(failing, { dev = false }))
  check.eq(res.status, "500 Internal Server Error")
  check.eq(res.body, "Internal Server Error\n")
  check.eq(res:header("content-type"), "text/plain; charset=utf-8")
  check.lacks(res.body, "secret-token")
  local logs = gotest.logs()
  check.contains(logs, "database exploded: secret-token-123", "the log has the error")
  check.contains(logs, "errors_test.lua", "and where it happened")
  check.contains(logs, "stack traceback", "and the traceback")
end

function T.test_dev_page_for_loopback_only()
  local app = errors(failing, { dev = true })
  local res = fake.request(app, { remote_addr = "127.0.0.1", path = "/x<y>" })
  check.eq(res.status, "500 Internal Server Error")
  check.eq(res:header("content-type"), "text/html; charset=utf-8")
  check.contains(res.body, "database exploded: secret-token-123")
  check.contains(res.body, "raised an error", "the host's development page")
  check.contains(res.body, "<code>testdata/errors_test.lua:13</code>", "the app's frame")
  check.contains(res.body, "Show all frames", "the toolkit's frames folded away")
  check.contains(res.body, "/x&lt;y&gt;", "the page escapes what it shows")
  check.contains(fake.request(app, { remote_addr = "::1" }).body, "raised an error")
  local json = fake.request(app, { remote_addr = "127.0.0.1", headers = { Accept = "application/json" } })
  check.eq(json:header("content-type"), "application/json; charset=utf-8")
  check.contains(json.body, '"line":13', "JSON for clients that prefer it")
  local remote = fake.request(app, { remote_addr = "203.0.113.9" })
  check.eq(remote.body, "Internal Server Error\n", "never to other clients")
  check.eq(fake.request(app, { remote_addr = "" }).body, "Internal Server Error\n")
end

function T.test_dev_default_comes_from_the_host()
  -- This test's name contains "dev": the harness turns Options.Dev on.
  local res = fake.request(errors(failing), { remote_addr = "127.0.0.1" })
  check.contains(res.body, "raised an error")
  check.eq(fake.request(errors(failing, { dev = false }), { remote_addr = "127.0.0.1" }).body, "Internal Server Error\n")
end

function T.test_error_during_iteration_before_output_uses_exc_info()
  local obj, counter = fake.counting_body({ "", "", "never" }, 2)
  local app = function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return obj
  end
  local res = fake.request(errors(app, { dev = false }))
  check.eq(res.status, "500 Internal Server Error", "the 200 was replaced")
  check.eq(res.body, "Internal Server Error\n")
  check.eq(res.error, nil)
  check.eq(counter.closes, 1, "the app's body is closed once")
  check.contains(gotest.logs(), "boom in the body")
end

function T.test_error_after_output_aborts()
  local obj, counter = fake.counting_body({ "partial", "more" }, 2)
  local app = function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return obj
  end
  local res = fake.request(errors(app))
  check.eq(res.status, "200 OK")
  check.ok(res.aborted, "the server re-raised exc_info and aborted")
  check.eq(res.body, "partial", "no error text appended")
  check.eq(tostring(res.error), "boom in the body")
  check.eq(counter.closes, 1)
end

function T.test_http_errors_keep_their_status()
  local app = errors(function(environ, start_response)
    local req = Request(environ, { max_body = 4 })
    local _ = req.body
    return Response("unreachable")(environ, start_response)
  end)
  local res = fake.request(app, { method = "POST", body = "too long" })
  check.eq(res.status, "413 Request Entity Too Large")
  check.contains(res.body, "larger than 4 bytes")
  local nf = fake.request(errors(function() Response.abort(404, "no such user", { { "X-Reason", "gone" } }) end))
  check.eq(nf.status, "404 Not Found")
  check.eq(nf.body, "no such user\n")
  check.eq(nf:header("x-reason"), "gone")
  check.lacks(gotest.logs(), "level=ERROR", "HTTP errors are not app errors")
end

function T.test_invalid_body_and_table_errors()
  local res = fake.request(errors(function(environ, sr) sr("200 OK", {}); return "oops" end, { dev = true }))
  check.eq(res.status, "500 Internal Server Error")
  check.contains(res.body, "return {s} instead")
  local t = fake.request(errors(function() error({ code = 7 }) end, { dev = true }))
  check.eq(t.status, "500 Internal Server Error")
  check.contains(t.body, "table: ")
  local nasty = setmetatable({}, { __tostring = function() error("tostring fails") end })
  local n = fake.request(errors(function() error(nasty) end, { dev = true }))
  check.eq(n.status, "500 Internal Server Error")
  check.contains(n.body, "__tostring failed")
end

function T.test_generators()
  local gen = function(fail_after_output)
    return function(environ, start_response)
      return coroutine.wrap(function()
        start_response("200 OK", { { "Content-Type", "text/plain" } })
        coroutine.yield("")
        if fail_after_output then coroutine.yield("first") end
        error("generator failed")
      end)
    end
  end
  local before = fake.request(errors(gen(false), { dev = false }))
  check.eq(before.status, "500 Internal Server Error")
  check.eq(before.body, "Internal Server Error\n")
  local after = fake.request(errors(gen(true), { dev = false }))
  check.ok(after.aborted)
  check.eq(after.body, "first")
  check.contains(tostring(after.error), "generator failed")
  local raw = coroutine.create(function() error("raw coroutine failed") end)
  local co = fake.request(errors(function(environ, sr) sr("200 OK", {}); return raw end, { dev = false }))
  check.eq(co.status, "500 Internal Server Error")
  check.contains(gotest.logs(), "raw coroutine failed")
end

function T.test_passes_through_when_fine()
  local obj, counter = fake.counting_body({ "a", "b" })
  local res = fake.request(errors(function(environ, sr) sr("201 Created", {}); return obj end))
  check.eq(res.status, "201 Created")
  check.eq(res.body, "ab")
  check.eq(counter.closes, 1)
  check.eq(counter.calls, 3)
end

return T
