-- inspect: human-readable representations of Lua values (its README).
local inspect = require "inspect"

print(inspect({ 1, 2, 3 }))
print(inspect({ a = 1, b = { c = "x\ny", d = { 1, 2 } }, [5] = true, ["key with space"] = 0 }))
print(inspect("a \"quoted\" string\0with nul"), inspect(1.5), inspect(nil), inspect(false))
print(inspect({ a = { b = { c = { d = 1 } } } }, { depth = 2 }))
print(inspect({ 1, { 2 } }, { newline = " ", indent = "" }))
local shared = { "s" }
print(inspect({ shared, shared, x = shared }))
local cyc = { name = "loop" }
cyc.me = cyc
print(inspect(cyc))
local obj = setmetatable({ v = 1 }, { __index = { method = true }, __tostring = function() return "obj" end })
print(inspect(obj))
print(inspect({ f = print, g = print, t = coroutine.create(function() end) }))
print(inspect({ a = 1, b = 2, secret = 3 }, {
  process = function(item, path)
    if path[#path] == "secret" then return nil end
    return item
  end,
}))
print(inspect({ a = 1, [inspect.KEY] = 2 }, { process = function(item, path)
  if path[#path] == inspect.METATABLE then return nil end
  return item
end }))
print(inspect({ [1.5] = "f", [-1] = "neg", [true] = "b", ["1"] = "s" }))
print(inspect(setmetatable({}, { __metatable = "locked" })))
