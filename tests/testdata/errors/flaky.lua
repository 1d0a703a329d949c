-- App errors of many kinds; /flaky/ok answers "fine". With --states 1,
-- every request runs on the same Lua state, so /flaky/ok after an error shows
-- that the state (or its replacement) still works.
local H = {{"Content-Type", "text/plain"}}

local function deep(n)
  return 1 + deep(n + 1)
end

local cases = {
  ["/ok"] = function(start_response)
    start_response("200 OK", H)
    return {"fine"}
  end,
  ["/raise"] = function(start_response)
    error("plain failure")
  end,
  ["/raise-nil"] = function(start_response)
    error(nil)
  end,
  ["/raise-table"] = function(start_response)
    error({code = 1})
  end,
  ["/raise-after-start"] = function(start_response)
    start_response("200 OK", {{"Content-Type", "text/plain"}, {"X-Dropped", "1"}})
    error("failure after start_response")
  end,
  ["/stack-overflow"] = function(start_response)
    return {tostring(deep(1))}
  end,
  ["/yield-outside-coroutine"] = function(start_response)
    coroutine.yield("x")
  end,
  ["/empty-then-raise"] = function(start_response)
    start_response("200 OK", H)
    return coroutine.wrap(function()
      coroutine.yield("")
      error("failure after an empty chunk")
    end)
  end,
  ["/raise-mid-stream"] = function(start_response)
    start_response("200 OK", H)
    return coroutine.wrap(function()
      coroutine.yield("partial")
      error("failure mid-stream")
    end)
  end,
  ["/write-empty-then-raise"] = function(start_response)
    local write = start_response("200 OK", H)
    write("")
    error("failure after write(\"\")")
  end,
}

return function(environ, start_response)
  local case = cases[environ.PATH_INFO]
  if not case then
    start_response("404 Not Found", H)
    return {"no such case"}
  end
  return case(start_response)
end
