-- The coxpcall stand-in: coxpcall's documented API, including what the
-- engine's own pcall cannot do in gopher-lua v1.1.2 (a yield across it).
local check = require "check"
local fake = require "fake"
local coxpcall = require "coxpcall"

local T = {}

function T.test_api_and_globals()
  check.eq(type(coxpcall.pcall), "function")
  check.eq(type(coxpcall.xpcall), "function")
  check.eq(type(coxpcall.running), "function")
  check.eq(copcall, coxpcall.pcall, "global copcall")
  check.eq(_G.coxpcall, coxpcall.xpcall, "global coxpcall")
end

function T.test_pcall_outside_coroutines()
  check.same({ coxpcall.pcall(function(a, b) return a + b, "x" end, 1, 2) }, { true, 3, "x" })
  check.same({ coxpcall.pcall(error, "plain", 0) }, { false, "plain" })
  local err = { code = 7 }
  local ok, got = coxpcall.pcall(error, err)
  check.eq(ok, false)
  check.eq(got, err, "error values keep their identity")
end

function T.test_xpcall_outside_coroutines()
  local ok, got = coxpcall.xpcall(function(a) error("bad " .. a, 0) end, function(e) return "handled: " .. e end, "arg")
  check.eq(ok, false)
  check.eq(got, "handled: bad arg")
  check.same({ coxpcall.xpcall(function(...) return select("#", ...), ... end, print, "a", nil) }, { true, 2, "a" })
end

-- step runs fn inside a coroutine and returns a resume function.
local function in_coroutine(fn)
  return coroutine.wrap(fn)
end

function T.test_yield_across_pcall()
  local resume = in_coroutine(function()
    local ok, v = coxpcall.pcall(function(n)
      local x = coroutine.yield("first")
      local y = coroutine.yield("second")
      return n + x + y
    end, 1)
    coroutine.yield(tostring(ok) .. ":" .. tostring(v))
  end)
  check.eq(resume(), "first")
  check.eq(resume(10), "second")
  check.eq(resume(100), "true:111")
end

function T.test_error_after_a_yield()
  local resume = in_coroutine(function()
    local ok, err = coxpcall.pcall(function()
      coroutine.yield("working")
      error("failed late", 0)
    end)
    coroutine.yield(tostring(ok) .. ":" .. err)
  end)
  check.eq(resume(), "working")
  check.eq(resume(), "false:failed late")
end

function T.test_xpcall_in_a_coroutine()
  local resume = in_coroutine(function()
    local ok, got = coxpcall.xpcall(function(a)
      coroutine.yield("pause")
      error("oops " .. a, 0)
    end, function(e) return { handled = e } end, "x")
    coroutine.yield(ok, got)
  end)
  check.eq(resume(), "pause")
  local ok, got = resume()
  check.eq(ok, false)
  check.matches(got.handled, "^oops x", "a string error reaches the handler, a traceback may follow")
end

function T.test_nested_protected_calls_yield()
  local resume = in_coroutine(function()
    local ok, v = coxpcall.pcall(function()
      local ok2, v2 = coxpcall.pcall(function()
        return coroutine.yield("deep") .. "!"
      end)
      return tostring(ok2) .. " " .. v2
    end)
    coroutine.yield(tostring(ok) .. " " .. v)
  end)
  check.eq(resume(), "deep")
  check.eq(resume("back"), "true true back!")
end

function T.test_running_sees_through()
  local outer, seen, seen_for_inner
  local resume = in_coroutine(function()
    outer = coroutine.running()
    coxpcall.pcall(function()
      seen = coxpcall.running()
      seen_for_inner = coxpcall.running(coroutine.running())
    end)
    coroutine.yield("done")
  end)
  check.eq(resume(), "done")
  check.eq(seen, outer, "running() names the coroutine that called pcall")
  check.eq(seen_for_inner, outer, "running(co) for a coroutine made by pcall")
  check.eq(coxpcall.running(), nil, "nil in the main thread")
  check.raises(function() coxpcall.running("x") end, "thread expected")
end

function T.test_callable_table_and_bad_handler()
  local obj = setmetatable({}, { __call = function(self, a) return a * 2 end })
  local resume = in_coroutine(function() coroutine.yield(coxpcall.pcall(obj, 21)) end)
  local ok, v = resume()
  check.eq(ok, true)
  check.eq(v, 42)
  local bad_ok, msg = coxpcall.xpcall(function() end, "not a function")
  check.eq(bad_ok, false)
  check.contains(msg, "error handler must be a function")
end

-- A streamed body may yield chunks from inside a protected call: the
-- reason web code loads coxpcall.
function T.test_body_yields_inside_pcall()
  local app = function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return coroutine.wrap(function()
      for i = 1, 3 do
        local ok, err = coxpcall.pcall(function()
          coroutine.yield("line " .. i .. "\n")
          if i == 2 then error("skip", 0) end
        end)
        if not ok then coroutine.yield("caught " .. err .. "\n") end
      end
    end)
  end
  local res = fake.request(app)
  check.eq(res.error, nil)
  check.eq(res.body, "line 1\nline 2\ncaught skip\nline 3\n")
end

return T
