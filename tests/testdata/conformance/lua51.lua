#!/usr/bin/env lsgi
-- lua51.lua: a plugin that starts with a "#!" line and relies on what Lua
-- 5.1 computes and gopher-lua alone does not: multiple assignment, closures
-- after a caught error, error levels, a yield inside pcall.
return function(environ, start_response)
  local a, b = 1, 2
  a, b = b, a
  local n = 0
  local function bump() n = n + 1 end
  pcall(error, "caught")
  bump()
  local function check(x) if not x then error("check failed", 2) end end
  local _, err = pcall(function() check(false) end)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return coroutine.wrap(function()
    coroutine.yield("swap " .. a .. " " .. b .. "\n")
    coroutine.yield("closure " .. n .. "\n")
    coroutine.yield("error level " .. err:match(":(%d+):") .. "\n")
    local ok, msg = pcall(coroutine.yield, "never sent")
    coroutine.yield("yield in pcall " .. tostring(ok) .. " " .. msg .. "\n")
  end)
end
