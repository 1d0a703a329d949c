-- table.insert, remove, maxn, getn, setn, foreach and foreachi as Lua 5.1.
local function show(t, n)
  local r = {}
  for i = 1, n do r[i] = tostring(t[i]) end
  return table.concat(r, " ")
end
local t = {1, 2, 3}
table.insert(t, 4) print(show(t, 5))
table.insert(t, 1, 0) print(show(t, 6))
table.insert(t, 3, "x") print(show(t, 7))
table.insert(t, 10, "far") print(show(t, 10))
print(pcall(table.insert, {}, 1, 2, 3))
print(pcall(table.insert, {}))
print(pcall(table.insert, nil, 1))
print(pcall(table.insert, {}, "x", 1))
local u = {}
table.insert(u, 0, "zero") table.insert(u, -1, "neg")
print(u[0], u[-1], #u)
local r = {1, 2, 3, 4}
print(table.remove(r), show(r, 4))
print(table.remove(r, 1), show(r, 4))
print(select("#", table.remove({})), select("#", table.remove({1}, 5)), select("#", table.remove({1}, 0)))
print(table.remove({1, 2, 3}, 2), table.remove({"a"}, 1))
print(table.maxn({}), table.maxn({1, 2, nil, 4}), table.maxn({[1.5] = 1, [-3] = 2, a = 3}), table.maxn({[100] = 1, 2}))
print(table.getn({1, 2, 3}), table.getn({}), pcall(table.getn, "x"))
print(pcall(table.setn, {}, 1))
print(table.foreach({10}, function(k, v) return k + v end), table.foreachi({5, 6}, function(i, v) if v == 6 then return i end end))
local seen = {}
table.foreachi({"a", "b", "c"}, function(i, v) seen[#seen + 1] = i .. v end)
print(table.concat(seen, ","))
print(pcall(table.foreach, {}, 1))
