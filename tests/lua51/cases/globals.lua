-- The globals and library tables an app sees are Lua 5.1's, with
-- gopher-lua's own helpers (_printregs, _GOPHER_LUA_VERSION, string.__index)
-- removed. "arg" is set by the lua5.1 interpreter, not by the library.
local function keys(t, skip)
  local r = {}
  for k in pairs(t) do
    if not (skip and skip[k]) then r[#r + 1] = tostring(k) end
  end
  table.sort(r)
  return table.concat(r, " ")
end
print(keys(_G, {arg = true}))
print(keys(string))
print(keys(table))
print(keys(math))
print(keys(coroutine))
print(keys(getmetatable("")))
print(getmetatable("").__index == string, ("x"):rep(2))
print(_VERSION)
print(type(newproxy), type(module), type(gcinfo), type(package.seeall))
