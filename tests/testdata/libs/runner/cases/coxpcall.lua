-- coxpcall: pcall and xpcall that coroutines can yield through (its
-- reference page). Loading it runs its own self-test of pcall.
local coxpcall = require "coxpcall"

print(type(coxpcall.pcall), type(coxpcall.xpcall), type(coxpcall.running), copcall == coxpcall.pcall)
print(coxpcall.pcall(function(a, b) return a + b end, 1, 2))
print(coxpcall.pcall(error, "plain", 0))
print(coxpcall.xpcall(function() error("bad", 0) end, function(e) return "handled " .. e:sub(1, 3) end))

local gen = coroutine.wrap(function()
  for i = 1, 3 do
    local ok, err = coxpcall.pcall(function()
      local got = coroutine.yield("step " .. i)
      if got == "fail" then error("failed at " .. i, 0) end
    end)
    -- coxpcall may append a traceback to a string error: keep its first line.
    coroutine.yield(tostring(ok) .. " " .. tostring(err):match("^[^\n]*"))
  end
end)
print(gen())
print(gen("go"))
print(gen())
print(gen("fail"))
print(gen())

local outer
local inner_seen
local co = coroutine.wrap(function()
  outer = coroutine.running()
  coxpcall.pcall(function() inner_seen = coxpcall.running() end)
end)
co()
print(inner_seen == outer, coxpcall.running() == nil)
