-- start_response with exc_info. PATH_INFO selects the case.
local H = {"Content-Type", "text/plain"}

local cases = {
  -- Before anything was sent, exc_info replaces status and headers.
  ["/before"] = function(start_response)
    start_response("200 OK", {H, {"X-First", "1"}})
    local ok, err = pcall(error, "caught failure")
    start_response("418 Replaced", {H, {"X-Second", "2"}}, err)
    return {"replaced"}
  end,
  -- An empty chunk sends nothing, so the replacement still wins.
  ["/before-lazy"] = function(start_response)
    return coroutine.wrap(function()
      start_response("200 OK", {H, {"X-First", "1"}})
      coroutine.yield("")
      start_response("418 Replaced", {H, {"X-Second", "2"}}, "caught failure")
      coroutine.yield("E")
    end)
  end,
  -- After write() the headers are out: exc_info is re-raised and the
  -- response is aborted.
  ["/after-write"] = function(start_response)
    local write = start_response("200 OK", {H})
    write("partial")
    start_response("500 Oops", {H}, "failure after write")
    return {"NOT RAISED"}
  end,
  -- The same after a yielded chunk.
  ["/after-yield"] = function(start_response)
    return coroutine.wrap(function()
      start_response("200 OK", {H})
      coroutine.yield("partial")
      start_response("500 Oops", {H}, "failure after yield")
      coroutine.yield("NOT RAISED")
    end)
  end,
  -- The re-raised error is the exc_info value itself.
  ["/after-identity"] = function(start_response)
    local E = {"marker"}
    local write = start_response("200 OK", {H})
    write("partial;")
    local ok, e = pcall(start_response, "500 Oops", {H}, E)
    return {"ok=" .. tostring(ok) .. ";same=" .. tostring(e == E)}
  end,
}

return function(environ, start_response)
  local case = cases[environ.PATH_INFO]
  if not case then
    start_response("404 Not Found", {H})
    return {"no such case"}
  end
  return case(start_response)
end
