-- debug.traceback follows Lua 5.1's layout.
local function lines(s)
  local r = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do r[#r + 1] = l end
  return r
end
local function level3() return debug.traceback("msg") end
local function level2() return level3() .. "" end
local t = lines(level2())
print(t[1], t[2], t[3], t[4])
print(debug.traceback("x", 1):match("^x\nstack traceback:\n") ~= nil)
print((debug.traceback()):sub(1, 16))
print(debug.traceback(nil), debug.traceback({}) ~= nil, type(debug.traceback(12)))
local co = coroutine.create(function() coroutine.yield() end)
coroutine.resume(co)
print((debug.traceback(co, "in co")):match("^in co\nstack traceback:") ~= nil)
local function deep(n) if n == 0 then return debug.traceback("deep") end return (deep(n - 1)) end
local d = lines(deep(30))
print(#d, d[14])
