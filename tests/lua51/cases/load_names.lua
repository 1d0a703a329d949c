-- load and loadstring name chunks as Lua 5.1 does, so that an error reads
-- `[string "..."]:LINE: message` (template engines map LINE back).
local function prefix(s, name)
  local f, err = loadstring(s, name)
  if f then return "compiled" end
  return (err:match("^(.-:%d+:)")) or err
end
print(prefix("return x +"))
print(prefix("x = = 1"))
print(prefix(("x"):rep(50) .. " +"))
print(prefix(("x"):rep(70) .. " +"))
print(prefix("a +\nb"))
print(prefix("\n\n\nreturn +"))
print(prefix("return 1\n+\n"))
print(prefix("x +", "=" .. ("n"):rep(90)))
print(prefix("x +", "=name"))
print(prefix("x +", "@" .. ("d/"):rep(45) .. "f.lua"))
print(prefix("x +", "@file.lua"))
print(prefix("x +", "name"))
print(prefix("x +", ""))
print(prefix("#!/usr/bin/lua\nreturn 1"))
print(prefix("return 1\n\n"))

-- Lua 5.1's own words for the common cases.
for _, s in ipairs{"return x +", "x = = 1", "f(", "x = }", "return return", "x = (1 + )"} do
  print(select(2, loadstring(s)))
end

-- load takes a reader function.
local parts, i = {"return ", "1 ", "+ 2"}, 0
local f = load(function() i = i + 1; return parts[i] end)
print("reader", f())
local g, err = load(function() return nil end)
print("empty reader", type(g), err)
i = 0
print("reader error", select(2, load(function() i = i + 1; return ({"return ", "1 +"})[i] end)))
i = 0
print("reader chunkname", prefix and (select(2, load(function() i = i + 1; return ({"x +"})[i] end, "=reader"))):match("^(.-:%d+:)"))
do
  local ok, err = pcall(load, "return 1")
  print("load wants a function", ok, (err:find("function expected", 1, true)) ~= nil)
end

-- Runtime errors name the chunk the same way.
print(pcall(loadstring("error('boom')", "=mychunk")))
print(pcall(loadstring("local x = 1\nerror('second line')")))
print(pcall(loadstring("error('boom')", "@some/file.lua")))
print(loadstring("return ...", "=varargs")(1, 2))
