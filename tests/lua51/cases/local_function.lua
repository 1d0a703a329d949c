-- `local f = function` does not see itself; `local function f` does.
local f = "outer"
do
  local f = function() return type(f) end
  print("plain", f())
end
do
  local function f() return type(f) end
  print("statement", f())
end
local g = function(n) return "outer " .. n end
do
  local g = function(n) if n == 0 then return "base" end return g(n - 1) end
  print("recursion reaches outer", g(3))
end
do
  local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
  print("local function recursion", fact(10))
end
do
  local print = function(...) print("wrapped:", ...) end
  print("hello")
end
