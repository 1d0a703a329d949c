-- Results that are app errors. PATH_INFO selects the case.
local H = {{"Content-Type", "text/plain"}}

local cases = {
  ["/string"] = function(start_response)
    start_response("200 OK", H)
    return "a plain string"
  end,
  ["/nil"] = function(start_response)
    start_response("200 OK", H)
    return nil
  end,
  ["/number"] = function(start_response)
    start_response("200 OK", H)
    return 42
  end,
  ["/boolean"] = function(start_response)
    start_response("200 OK", H)
    return false
  end,
  ["/table-chunk"] = function(start_response)
    start_response("200 OK", H)
    return {{"nested"}}
  end,
  ["/number-chunk"] = function(start_response)
    start_response("200 OK", H)
    return {42}
  end,
  ["/boolean-chunk"] = function(start_response)
    start_response("200 OK", H)
    return coroutine.wrap(function()
      coroutine.yield(true)
    end)
  end,
  ["/wsapi-triple"] = function(start_response)
    return 200, {["Content-Type"] = "text/plain"}, coroutine.wrap(function()
      coroutine.yield("wsapi style")
    end)
  end,
  ["/no-start-response"] = function(start_response)
    return {"body without start_response"}
  end,
  ["/no-start-response-empty"] = function(start_response)
    return {}
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
