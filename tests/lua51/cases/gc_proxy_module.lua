-- collectgarbage answers Lua 5.1's options; newproxy and module work.
print(collectgarbage(), collectgarbage("collect"), collectgarbage("stop"), collectgarbage("restart"))
print(type(collectgarbage("count")), collectgarbage("count") > 0, type(gcinfo()))
print(collectgarbage("setpause", 150), collectgarbage("setpause"), collectgarbage("setstepmul", 300), collectgarbage("setstepmul", 200))
print(pcall(collectgarbage, "bogus"))
print(pcall(collectgarbage, {}))
local p = newproxy()
print(type(p), getmetatable(p))
local q = newproxy(true)
getmetatable(q).__index = function(_, k) return "got " .. k end
local r = newproxy(q)
print(getmetatable(q) == getmetatable(r), r.x, newproxy(false) ~= nil)
print(pcall(newproxy, {}))
print(pcall(newproxy, io.stdout))
module("mymod", package.seeall)
function hello() return "hello from " .. _NAME end
print(hello(), _M == mymod, package.loaded.mymod == mymod, _PACKAGE)
