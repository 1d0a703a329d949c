-- A coroutine cannot yield across pcall, a metamethod, a for-loop
-- iterator or a library function that calls back: Lua 5.1 raises
-- "attempt to yield across metamethod/C-call boundary" instead.

local function try(name, body)
  local co = coroutine.create(body)
  print(name, "first", coroutine.resume(co))
  print(name, "second", coroutine.resume(co, "resumed"))
  print(name, "status", coroutine.status(co))
end

try("pcall", function() return pcall(coroutine.yield, "py") end)
try("xpcall", function()
  return xpcall(function() return coroutine.yield("xy") end, function(m) return "handled: " .. m end)
end)
try("pcall body", function()
  local ok, err = pcall(function() coroutine.yield("inside") end)
  return "after", ok, err
end)
try("for iterator", function()
  for x in function(s, c) if c then return nil end return coroutine.yield("it") end do end
  return "end"
end)
try("sort", function()
  local t = {3, 1, 2}
  table.sort(t, function(a, b) coroutine.yield("cmp"); return a < b end)
  return "sorted"
end)
try("gsub", function() return (string.gsub("ab", ".", function(c) return coroutine.yield(c) end)) end)
try("index", function()
  local t = setmetatable({}, {__index = function(t, k) return coroutine.yield(k) end})
  return t.foo
end)
try("add", function()
  local t = setmetatable({}, {__add = function(a, b) return coroutine.yield("add") end})
  return t + 1
end)
try("tostring", function()
  local t = setmetatable({}, {__tostring = function() return coroutine.yield("ts") end})
  return tostring(t)
end)

-- What does work: yields from Lua calls, nested coroutines, wrap.
try("plain", function(...) local v = coroutine.yield("y"); return "got " .. v end)
try("nested calls", function()
  local function deep(n) if n == 0 then return coroutine.yield("deep") end return deep(n - 1) end
  return deep(5)
end)
try("tail call", function() return coroutine.yield("tail") end)
try("nested coroutine", function()
  local inner = coroutine.wrap(function() coroutine.yield("inner"); return "inner done" end)
  local a = inner()
  coroutine.yield(a)
  return inner()
end)
try("yield in pcall of other coroutine", function()
  local inner = coroutine.create(function() coroutine.yield("from inner") end)
  local ok, a, b = pcall(coroutine.resume, inner)
  return ok, a, b
end)
do
  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
  print("wrap", gen(), gen(), gen())
end

-- Outside a coroutine.
print("main", pcall(coroutine.yield, "main"))
print("running in main", coroutine.running())

-- coxpcall's load-time check, which resumed a coroutine that had yielded
-- through pcall.
local function isCoroutineSafe(func)
  local co = coroutine.create(function()
    return func(coroutine.yield, function() end)
  end)
  coroutine.resume(co)
  return coroutine.resume(co)
end
print("coxpcall check pcall", isCoroutineSafe(pcall))
print("coxpcall check xpcall", isCoroutineSafe(xpcall))
