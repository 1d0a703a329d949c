-- debug.getinfo has Lua 5.1's fields; in default mode it is one of the
-- two functions of the debug library (with traceback), both read-only.
local function show(t, keys)
  local r = {}
  for _, k in ipairs(keys) do r[#r + 1] = k .. "=" .. tostring(t[k]) end
  return table.concat(r, " ")
end
local S = {"source", "short_src", "what", "linedefined", "lastlinedefined"}
local function f()
  local info = debug.getinfo(1)
  return info
end
local i = f()
print(show(i, S))
print(show(i, {"currentline", "nups", "name", "namewhat"}), i.func == f)
local m = debug.getinfo(1, "Sl")
print(show(m, S), m.currentline)
local c = debug.getinfo(print)
print(show(c, S), c.currentline, c.nups, c.func == print)
local g = debug.getinfo(f, "S")
print(show(g, S), g.currentline)
print(debug.getinfo(100), debug.getinfo(1, "l").currentline)
local only = debug.getinfo(1, "l")
print(only.source, only.currentline ~= nil, only.func)
print(pcall(debug.getinfo, 1, "x"))
print(pcall(debug.getinfo, {}))
print(pcall(debug.getinfo))
local s = loadstring("return debug.getinfo(1, 'S')", "return 42")()
print(show(s, S))
local long = loadstring("return debug.getinfo(1, 'S')", string.rep("-", 70))()
print(long.short_src, #long.short_src)
local twolines = loadstring("return debug.getinfo(1, 'S')", "first\nsecond")()
print(twolines.short_src)
local named = loadstring("return debug.getinfo(1, 'S')", "=mychunk")()
print(named.source, named.short_src)
local at = loadstring("return debug.getinfo(1, 'S')", "@" .. string.rep("d/", 40) .. "file.lua")()
print(at.short_src)
local function outer() return debug.getinfo(2, "l").currentline end
print(outer())
local lines = debug.getinfo(f, "L").activelines
local n = 0 for _ in pairs(lines) do n = n + 1 end
print(type(lines), n > 0)
