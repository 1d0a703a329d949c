-- Numbers print as Lua 5.1's "%.14g": math.huge is infinite and prints as
-- inf, 0/0 as -nan or nan (the sign of the NaN, as glibc shows it).
print(math.huge, -math.huge, math.huge == 1/0, math.huge > 1e308)
print(tostring(math.huge), tostring(-math.huge))
local nan = 0/0
print(tostring(nan), tostring(-nan), nan ~= nan)
print(1/3, 2/3, 0.1, 0.1 + 0.2, 100, -100, 1e14, 1e15, 123456789012345)
print(2^53, 2^63, -2^63, 1e100, 1e-5, 1e-300, 5e-324, 3.14159265358979)
print(math.floor(-0.5), math.ceil(-0.5), math.floor(0.5))
print(tostring(12), tostring(12.5), tostring(-7.25), tostring(1e21))
print(string.format("%s %s", 1/3, 1e15))
print(#tostring(1/3), ("x"):rep(3) .. "", string.len(1/3))
print(math.pi, -math.pi, math.sqrt(2))
print(tostring(nil), tostring(true), tostring(false))
print(pcall(tostring))
local t = setmetatable({}, {__tostring = function() return "custom" end})
print(tostring(t), t)
print(select("#", tostring(1, 2)))
