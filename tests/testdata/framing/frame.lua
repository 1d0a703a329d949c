-- Responses for the Content-Length and chunked framing rules. PATH_INFO
-- selects the case.
local CT = {"Content-Type", "text/plain"}

local function gen(...)
  local chunks = {...}
  return coroutine.wrap(function()
    for _, chunk in ipairs(chunks) do
      coroutine.yield(chunk)
    end
  end)
end

local cases = {
  ["/one"] = function(start_response)
    start_response("200 OK", {CT})
    return {"hello"}
  end,
  ["/empty"] = function(start_response)
    start_response("200 OK", {CT})
    return {}
  end,
  ["/empty-generator"] = function(start_response)
    start_response("200 OK", {CT})
    return gen("", "")
  end,
  ["/two"] = function(start_response)
    start_response("200 OK", {CT})
    return {"hel", "lo"}
  end,
  ["/generator"] = function(start_response)
    start_response("200 OK", {CT})
    return gen("a", "", "b")
  end,
  ["/write"] = function(start_response)
    local write = start_response("200 OK", {CT})
    write("hello")
    return {}
  end,
  ["/app-cl"] = function(start_response)
    start_response("200 OK", {CT, {"Content-Length", "5"}})
    return gen("hel", "lo")
  end,
  ["/cl-long"] = function(start_response)
    start_response("200 OK", {CT, {"Content-Length", "3"}})
    return {"abcdef"}
  end,
  ["/cl-long-generator"] = function(start_response)
    start_response("200 OK", {CT, {"Content-Length", "3"}})
    return gen("ab", "cd", "ef")
  end,
  ["/cl-long-lower-case"] = function(start_response)
    start_response("200 OK", {CT, {"content-length", "3"}})
    return {"abcdef"}
  end,
  ["/cl-short"] = function(start_response)
    start_response("200 OK", {CT, {"Content-Length", "10"}})
    return {"abc"}
  end,
  ["/head"] = function(start_response)
    start_response("200 OK", {CT, {"Content-Length", "5"}})
    return gen("hel", "lo")
  end,
  ["/head-generator"] = function(start_response)
    start_response("200 OK", {CT})
    return gen("a", "b")
  end,
  ["/one-with-close"] = function(start_response)
    start_response("200 OK", {CT})
    return {"hello", close = function() end}
  end,
  ["/binary"] = function(start_response)
    start_response("200 OK", {{"Content-Type", "application/octet-stream"}})
    return gen("\0\r\n", "\255\n\r")
  end,
  ["/headers"] = function(start_response)
    start_response("200 OK", {
      CT,
      {"Date", "Mon, 01 Jan 2001 00:00:00 GMT"},
      {"Server", "fixture/1.0"},
      {"Set-Cookie", "a=1"},
      {"Set-Cookie", "b=2"},
      {"X-Bytes", "h\228der"},
      {"X-Tab", "a\tb"},
    })
    return {"hello"}
  end,
  ["/no-content"] = function(start_response)
    start_response("204 No Content", {CT, {"Content-Length", "1"}})
    return {"x"}
  end,
  ["/not-modified"] = function(start_response)
    start_response("304 Not Modified", {CT, {"Content-Length", "5"}})
    return {"hello"}
  end,
  ["/no-content-type"] = function(start_response)
    start_response("200 OK", {})
    return {"<html><body>hi</body></html>"}
  end,
}

return function(environ, start_response)
  local case = cases[environ.PATH_INFO]
  if not case then
    start_response("404 Not Found", {CT})
    return {"no such case"}
  end
  return case(start_response)
end
