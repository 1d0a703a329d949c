-- table.concat is linear and has no limit on the number of pieces (the
-- string-bytes limit bounds the result); numbers join as "%.14g".
print(table.concat({}), table.concat({}, "x"), table.concat({1, 2.5, "x"}, "-"))
print(table.concat({1, 2, 3}, ",", 2, 3), table.concat({1, 2, 3}, ",", 3), table.concat({1, 2, 3}, ",", 4))
print(table.concat({"a", "b", "c"}, ",", 1, 0), table.concat({"a", "b"}, ", ", 1, 1))
print(table.concat({1/3, 1e15, -0.5}, " "))
print(pcall(table.concat, {1, {}, 3}))
print(pcall(table.concat, {1, 2}, ",", 1, 3))
print(pcall(table.concat, {}, {}))
print(pcall(table.concat, "x"))
print(table.concat({[0] = "zero", "one", [-1] = "minus"}, "|", -1, 1))
local t = setmetatable({}, {__index = function(_, i) return "meta" .. i end})
print(pcall(table.concat, t, ",", 1, 2))
local big = {}
for i = 1, 300000 do big[i] = "x" end
local s = table.concat(big)
print(#s, s:sub(1, 3))
for i = 1, 300000 do big[i] = i % 10 end
local s2 = table.concat(big, ",")
print(#s2, s2:sub(1, 9), s2:sub(-5))
