-- math functions whose gopher-lua versions differ from Lua 5.1: mod is
-- fmod, modf of an infinity, max and min need a number, random checks
-- its interval.
print(math.mod(-5, 3), math.fmod(-5, 3), math.fmod(5, -3), -5 % 3, math.fmod(5.5, 2))
print(math.modf(3.7), math.modf(-3.7), math.modf(1/0), math.modf(-1/0), math.modf(0))
print(math.max(3, 1, 2), math.min(3, 1, 2), math.max(-1), math.max("10", 9))
print(pcall(math.max))
print(pcall(math.min))
print(pcall(math.max, 1, "x"))
print(pcall(math.random, 0))
print(pcall(math.random, 3, 1))
print(pcall(math.random, 1, 2, 3))
local r = math.random() print(r >= 0 and r < 1)
local ok = true
for i = 1, 200 do
  local a, b = math.random(5), math.random(-3, 3)
  if a < 1 or a > 5 or b < -3 or b > 3 or a ~= math.floor(a) then ok = false end
end
print(ok, math.random(1, 1), math.random(1))
math.randomseed(42)
local x = math.random(1000) math.randomseed(42)
print(x == math.random(1000))
print(math.floor(3.7), math.ceil(3.2), math.abs(-2), math.huge > 0, math.floor(-0.0))
print(math.ldexp(1, 10), math.frexp(1024), math.pow(2, 10), math.exp(0), math.log(1), math.log10(100))
