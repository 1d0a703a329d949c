-- Resume and wrap refuse coroutines that cannot run, with Lua 5.1's words.
local f = coroutine.wrap(function() error("x") end)
print("wrap error", pcall(f))
local g = coroutine.wrap(function() return 1 end)
print("wrap once", g())
print("wrap dead", pcall(g))
local h = coroutine.wrap(function() error({}) end)
do local ok, e = pcall(h); print("wrap table error", ok, type(e)) end
local co
co = coroutine.create(function() return coroutine.resume(co) end)
print("resume running", coroutine.resume(co))
print("resume dead", coroutine.resume(co))
local w
w = coroutine.wrap(function() return w() end)
print("wrap running", pcall(w))
local function call_wrapped() return (w()) end
print("wrap running, Lua caller", pcall(call_wrapped))
print("status inside", coroutine.resume(coroutine.create(function() return coroutine.status(coroutine.running()) end)))
local co2 = coroutine.create(function(a, b) local c = coroutine.yield(a + b); return c * 2 end)
print("status new", coroutine.status(co2))
print("resume 1", coroutine.resume(co2, 1, 2))
print("status suspended", coroutine.status(co2))
print("resume 2", coroutine.resume(co2, 10))
print("status dead", coroutine.status(co2))
-- A coroutine waiting for the one it resumed is "normal".
local outer
outer = coroutine.create(function()
  local inner = coroutine.create(function()
    print("outer seen from inner", coroutine.status(outer))
    print("resume normal", coroutine.resume(outer))
    local grand = coroutine.create(function() return coroutine.status(outer) end)
    print("outer seen two levels down", coroutine.resume(grand))
  end)
  coroutine.resume(inner)
  return "outer done"
end)
print("outer", coroutine.resume(outer))
local function lua_caller() local d = coroutine.wrap(function() end); d(); return d() end
do local ok, e = pcall(lua_caller); print("wrap dead from Lua", ok, e) end
local errwrap = coroutine.wrap(function() error("inner failure") end)
local function calls_errwrap() local r = errwrap(); return r end
print("wrap error from Lua", pcall(calls_errwrap))
