-- error(message, level) names the position `level` calls up.
local function f(l) error("msg", l) end
local function g(l) f(l) end
local function h(l) g(l) end
for l = 0, 5 do print("level", l, pcall(h, l)) end
local function m(l) error("m", l) end
print("called", pcall(function() m(2) end))
print("tail called", pcall(function() return m(2) end))
print("tail called, level 1", pcall(function() return m(1) end))
print("nested", pcall(function() (function() error("q", 2) end)() end))
print("from pcall", pcall(error, "direct", 1))
print("from pcall, level 2", pcall(error, "direct", 2))
print("table message", pcall(function() error(setmetatable({}, {__tostring = function() return "obj" end}), 2) end))
print("number message", pcall(function() error(42, 1) end))
print("number message, level 2", pcall(function() error(42, 2) end))
print("no message", pcall(error))
print("nil message", pcall(function() error(nil, 2) end))
print("level beyond the stack", pcall(function() error("far", 50) end))
print("default level", pcall(function() error("default") end))
local function validate(x)
  if type(x) ~= "number" then error("number expected, got " .. type(x), 2) end
  return x
end
local function use() return validate("s") + 1 end
print("argument check", pcall(use))
local obj = {}
function obj:method(v) if not v then error("method needs a value", 2) end end
print("method", pcall(function() obj:method() end))
