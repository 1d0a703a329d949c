-- table.sort is Lua 5.1's: a nil order function is accepted, ties end up
-- in Lua 5.1's order, and a comparison that is not a strict order raises
-- "invalid order function for sorting".
local function show(t) local r = {} for i, v in ipairs(t) do r[i] = tostring(v) end return table.concat(r, " ") end
local t = {5, 2, 8, 1, 9, 3}
table.sort(t, nil) print(show(t))
t = {"pear", "apple", "fig", "banana"} table.sort(t) print(show(t))
t = {5, 2, 8, 1, 9, 3} table.sort(t, function(a, b) return a > b end) print(show(t))
-- equal keys: the order shows the algorithm
local recs = {}
for i = 1, 40 do recs[i] = {k = i % 4, id = i} end
table.sort(recs, function(a, b) return a.k < b.k end)
local ids = {} for i, r in ipairs(recs) do ids[i] = r.id end
print(table.concat(ids, " "))
local big = {}
for i = 1, 1000 do big[i] = (i * 7919) % 1009 end
table.sort(big)
local ok = true for i = 2, #big do if big[i - 1] > big[i] then ok = false end end
print(ok, big[1], big[1000])
print(pcall(table.sort, {1, 2, 3}, function(a, b) return true end))
local many = {} for i = 1, 100 do many[i] = i end
print(pcall(table.sort, many, function(a, b) return true end))
print(pcall(table.sort, {1, "x"}))
print(pcall(table.sort, {{}, {}}))
print(pcall(table.sort, {1, 2}, 3))
print(pcall(table.sort, "x"))
local mt = {__lt = function(a, b) return a.v < b.v end}
local objs = {} for i, v in ipairs({3, 1, 2}) do objs[i] = setmetatable({v = v}, mt) end
table.sort(objs) print(objs[1].v, objs[2].v, objs[3].v)
table.sort({}) table.sort({1})
print(pcall(table.sort, {3, 1, 2}, function(a, b) error("boom") end))
