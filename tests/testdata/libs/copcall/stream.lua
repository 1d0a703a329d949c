-- A streamed body that yields its chunks from inside protected calls, with
-- the coxpcall stand-in (this single-file plugin brings no coxpcall.lua).
-- The host resumes the body coroutine; each yield goes through copcall.
local coxpcall = require "coxpcall"

return function(environ, start_response)
  return coroutine.create(function()
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    for i = 1, 4 do
      local ok, err = coxpcall.pcall(function()
        coroutine.yield("chunk " .. i .. "\n")
        if i % 2 == 0 then error("even " .. i, 0) end
      end)
      if not ok then coroutine.yield("caught: " .. err .. "\n") end
    end
    local ok, handled = coxpcall.xpcall(function() coroutine.yield("last\n"); error({ code = 7 }) end,
      function(e) return "handler got code " .. e.code end)
    coroutine.yield(tostring(ok) .. ", " .. handled .. "\n")
  end)
end
