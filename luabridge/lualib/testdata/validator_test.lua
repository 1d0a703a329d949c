local check = require "check"
local fake = require "fake"
local validator = require "lsgi.validator"

local T = {}

local function ok_app(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { "fine" }
end

-- run wraps app in the validator, serves one request and returns the
-- validator's message ("" when there was none) and the response.
local function run(app, opts)
  local res = fake.request(validator(app), opts)
  return res.error and tostring(res.error) or "", res
end

function T.test_correct_apps_pass()
  local msg, res = run(ok_app)
  check.eq(msg, "")
  check.eq(res.body, "fine")
  local gen = function(environ, start_response)
    return coroutine.wrap(function()
      coroutine.yield("") -- empty chunks before start_response are allowed
      start_response("200 OK", { { "Content-Type", "text/plain" } })
      coroutine.yield("lazy")
    end)
  end
  msg, res = run(gen)
  check.eq(msg, "")
  check.eq(res.body, "lazy")
  local writer = function(environ, start_response)
    local write = start_response("200 OK", {})
    write("w")
    return {}
  end
  msg, res = run(writer)
  check.eq(msg, "")
  check.eq(res.body, "w")
  local recover = function(environ, start_response)
    start_response("200 OK", {})
    local okp, err = pcall(error, "oops")
    start_response("500 Internal Server Error", {}, err)
    return { "recovered" }
  end
  msg, res = run(recover)
  check.eq(msg, "", "a second call with exc_info is allowed")
  check.eq(res.status, "500 Internal Server Error")
  check.eq(validator.wrap, validator.wrap)
end

function T.test_catches_string_result()
  local msg = run(function(environ, start_response)
    start_response("200 OK", {})
    return "a string"
  end)
  check.contains(msg, "lsgi.validator: the app returned a string")
  check.contains(msg, "return {s} instead")
end

function T.test_catches_nil_and_number_results()
  check.contains(run(function(environ, sr) sr("200 OK", {}) end), "returned nil")
  check.contains(run(function(environ, sr) return 200, {}, {} end), "WSAPI-style")
  check.contains(run(function(environ, sr) return true end), "expected a body")
end

function T.test_catches_missing_start_response()
  check.contains(run(function() return { "x" } end), "start_response was not called")
  check.contains(run(function() return {} end), "without calling start_response")
  check.contains(run(function()
    local i = 0
    return function() i = i + 1; if i == 1 then return "x" end end
  end), "chunk 1 is not empty but start_response was not called yet")
  check.contains(run(function() return function() return nil end end), "start_response was never called")
end

function T.test_catches_bad_headers()
  local cases = {
    { { { "X-Bad", "a\r\nInjected: yes" } }, "control characters" },
    { { { "X Bad", "v" } }, "bad header name" },
    { { { "X:", "v" } }, "bad header name" },
    { { { "", "v" } }, "bad header name" },
    { { { "Content-Length", 5 } }, "must be a string" },
    { { ["Content-Type"] = "text/plain" }, "not a map" },
    { { "Content-Type", "text/plain" }, "must be a {name, value} pair" },
    { { { "A", "b", "c" } }, "must be a {name, value} pair" },
    { { { "Connection", "close" } }, "hop-by-hop" },
    { { { "transfer-encoding", "chunked" } }, "hop-by-hop" },
    { { { "Status", "200" } }, "Status header" },
    { { { "Content-Length", "abc" } }, "decimal digits" },
    { { { "Content-Length", "1" }, { "content-length", "2" } }, "two different Content-Length" },
    { "not a table", "headers must be an array" },
  }
  for _, case in ipairs(cases) do
    local msg = run(function(environ, start_response)
      start_response("200 OK", case[1])
      return { "x" }
    end)
    check.contains(msg, "lsgi.validator: ", case[2])
    check.contains(msg, case[2])
    check.contains(msg, "validator_test.lua", "the error points at the app's call")
  end
end

function T.test_catches_bad_status()
  for _, status in ipairs({ "200", "20X OK", "200OK", " 200 OK", "200 OK\r\n", "200 OK\r\nX: y", "099 X", "1000 X", "100 Continue", "200 OK " }) do
    local msg = run(function(environ, start_response)
      start_response(status, {})
      return { "x" }
    end)
    check.contains(msg, "lsgi.validator: status", status)
  end
  check.contains(run(function(environ, sr) sr(200, {}); return {} end), "status must be a string")
end

function T.test_catches_non_string_chunk()
  check.contains(run(function(environ, sr)
    sr("200 OK", {})
    return { "a", 42 }
  end), "chunk 2 of the body is a number, not a string")
  check.contains(run(function(environ, sr)
    sr("200 OK", {})
    local i = 0
    return function() i = i + 1; if i == 1 then return { "nested" } end end
  end), "chunk 1 of the body is a table, not a string")
  check.contains(run(function(environ, sr)
    local w = sr("200 OK", {})
    w(7)
    return {}
  end), "write needs a string")
end

function T.test_catches_start_response_twice()
  check.contains(run(function(environ, start_response)
    start_response("200 OK", {})
    start_response("404 Not Found", {})
    return {}
  end), "start_response called a second time without exc_info")
  -- Even when the first call raised (SR-03).
  local seen = {}
  run(function(environ, start_response)
    pcall(start_response, "200 OK", { { "X", "a\nb" } })
    local ok, err = pcall(start_response, "200 OK", {})
    seen.second = err
    start_response("500 Internal Server Error", {}, "the error")
    return {}
  end)
  check.contains(tostring(seen.second), "second time")
end

function T.test_catches_environ_problems()
  local env = fake.environ {}
  env.SERVER_PORT = 8000
  check.contains(run(ok_app, env), "environ.SERVER_PORT must be a string")
  env = fake.environ {}
  env.SCRIPT_NAME = "/"
  check.contains(run(ok_app, env), "SCRIPT_NAME cannot be")
  env = fake.environ {}
  env.HTTP_CONTENT_TYPE = "text/plain"
  check.contains(run(ok_app, env), "HTTP_CONTENT_TYPE")
  env = fake.environ {}
  env["lsgi.input"] = nil
  check.contains(run(ok_app, env), "lsgi.input")
  check.contains(tostring(check.raises(function() validator(ok_app)({}, function() end, 3) end)), "exactly two arguments")
  check.raises(function() validator("not an app") end, "must be callable")
end

function T.test_wraps_input_and_errors()
  local seen = {}
  local app = function(environ, start_response)
    local input = environ["lsgi.input"]
    seen.line = input:readline()
    seen.rest = input:read()
    seen.eof = input:read(10)
    environ["lsgi.errors"]:write("logged\n")
    seen.bad = select(2, pcall(input.read, input, -1))
    seen.closing = select(2, pcall(input.close, input))
    start_response("200 OK", {})
    return {}
  end
  local msg = run(app, { method = "POST", body = "line1\nrest" })
  check.eq(msg, "")
  check.eq(seen.line, "line1\n")
  check.eq(seen.rest, "rest")
  check.eq(seen.eof, nil)
  check.contains(tostring(seen.bad), "whole number")
  check.contains(tostring(seen.closing), "must not close lsgi.input")
end

function T.test_close_forwarded_once_and_no_reads_after_end()
  local obj, counter = fake.counting_body({ "a", "b" })
  local app = function(environ, start_response)
    start_response("200 OK", {})
    return obj
  end
  local msg, res = run(app)
  check.eq(msg, "")
  check.eq(res.body, "ab")
  check.eq(counter.closes, 1)
  check.eq(counter.calls, 3, "n chunks: n + 1 calls, then never again")
  local obj2 = fake.counting_body({ "a", "b" })
  local wrapped = validator(function(environ, start_response)
    start_response("200 OK", {})
    return obj2
  end)
  local body = wrapped(fake.environ {}, function() return function() end end)
  body() body() body()
  check.raises(function() body() end, "iterated after it ended")
  body.close()
  check.raises(function() body.close() end, "close() called twice")
end

return T
