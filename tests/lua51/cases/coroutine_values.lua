-- The values of resume become the results of the pending yield, adjusted
-- to what its caller takes, and a yield in a tail call ends the coroutine.
local co = coroutine.create(function(p, q)
  print("params", p, q)
  local x, y, z = "X", "Y", "Z"
  local a, b, c = coroutine.yield(1, 2)
  print("fewer values", a, b, c)
  local t = {coroutine.yield()}
  print("all values", #t, t[1], t[3])
  local one = coroutine.yield("one")
  print("more values", one)
  print("as arguments", select("#", coroutine.yield("args")))
  return "end", x, y, z
end)
print(coroutine.resume(co, "p"))
print(coroutine.resume(co, "only"))
print(coroutine.resume(co, 1, 2, 3))
print(coroutine.resume(co, "first", "second"))
print(coroutine.resume(co, nil, nil, nil))
print(coroutine.status(co))

local tail = coroutine.create(function(a) return coroutine.yield(a * 2) end)
print("tail", coroutine.resume(tail, 21))
print("tail end", coroutine.resume(tail, "x", "y"))
print("tail status", coroutine.status(tail))
print("tail again", coroutine.resume(tail))

local deeper = coroutine.create(function()
  local function inner(v) return coroutine.yield(v) end
  local r1, r2 = inner("in")
  return "after", r1, r2
end)
print("inner tail", coroutine.resume(deeper))
print("inner tail end", coroutine.resume(deeper, "r1"))

local gen = coroutine.wrap(function(n)
  while true do n = coroutine.yield(n + 1) end
end)
print("wrap values", gen(1), gen(10), gen(100))

local producer = coroutine.wrap(function()
  for i = 1, 3 do coroutine.yield(i, i * i) end
  return "done"
end)
print("pairs", producer())
print("pairs", producer())
print("pairs", producer())
print("pairs", producer())
