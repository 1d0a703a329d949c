-- The write() callable. PATH_INFO selects the case.
local H = {{"Content-Type", "text/plain"}}

local cases = {
  ["/before-table"] = function(start_response)
    local write = start_response("200 OK", H)
    write("w1 ")
    write("w2 ")
    return {"i1 ", "i2"}
  end,
  ["/before-generator"] = function(start_response)
    local write = start_response("200 OK", H)
    write("w1 ")
    return coroutine.wrap(function()
      coroutine.yield("i1 ")
      coroutine.yield("i2")
    end)
  end,
  ["/only"] = function(start_response)
    local write = start_response("200 OK", H)
    write("written")
    return {}
  end,
  ["/number"] = function(start_response)
    local write = start_response("200 OK", H)
    local ok = pcall(write, 123)
    return {"raised=" .. tostring(not ok)}
  end,
  -- The write of one request, kept in a global of the Lua state...
  -- The write and start_response of one request, kept in globals of the
  -- Lua state...
  ["/stash"] = function(start_response)
    stashed_start_response = start_response
    stashed_write = start_response("200 OK", H)
    return {"stashed"}
  end,
  -- ...must not work in a later request.
  ["/use-stash"] = function(start_response)
    local write_ok = stashed_write ~= nil and pcall(stashed_write, "LEAKED")
    local sr_ok = stashed_start_response ~= nil and pcall(stashed_start_response, "500 Leaked", H)
    start_response("200 OK", H)
    return {"stash=" .. tostring(stashed_write ~= nil and stashed_start_response ~= nil)
      .. ";write raised=" .. tostring(not write_ok)
      .. ";start_response raised=" .. tostring(not sr_ok)}
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
