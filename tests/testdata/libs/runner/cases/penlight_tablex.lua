-- pl.tablex: table operations (Penlight manual, "Tables"). Key order is
-- sorted before printing: pairs order is not part of Lua's contract.
local tablex = require "pl.tablex"
local pretty = require "pl.pretty"

local function show(t) return pretty.write(t, "") end

local t = { a = 1, b = { c = 2, d = { 3, 4 } } }
local copy = tablex.deepcopy(t)
print(tablex.deepcompare(t, copy), copy.b ~= t.b, tablex.deepcompare(t, { a = 1 }))
print(show(tablex.copy { 1, 2, x = "y" }), tablex.size { a = 1, b = 2, 3 })
local keys = tablex.keys { x = 1, y = 2, z = 3 }
table.sort(keys)
print(show(keys))
local values = tablex.values { x = 1, y = 2, z = 3 }
table.sort(values)
print(show(values))
print(show(tablex.map(function(v) return v * v end, { 1, 2, 3 })), show(tablex.imap(string.upper, { "a", "b" })))
print(show(tablex.filter({ 1, 2, 3, 4 }, function(v) return v % 2 == 0 end)), tablex.reduce("+", { 1, 2, 3, 4 }))
print(show(tablex.merge({ a = 1, b = 2 }, { b = 3, c = 4 }, true)), show(tablex.merge({ a = 1, b = 2 }, { b = 3, c = 4 })))
print(show(tablex.difference({ a = 1, b = 2 }, { b = 3 })), show(tablex.count_map { "x", "y", "x" }))
print(show(tablex.makeset { "p", "q" }), show(tablex.index_by({ "a", "b", "c" }, { 3, 1 })))
print(show(tablex.union({ a = 1 }, { b = 2 })), show(tablex.intersection({ a = 1, b = 2 }, { b = 5 })))
print(tablex.find({ "a", "b", "c" }, "b"), tablex.find({ "a" }, "z"), tablex.rfind({ "a", "b", "a" }, "a"))
print(show(tablex.range(1, 9, 2)), show(tablex.zip({ 1, 2 }, { "a", "b" })))
local sorted = {}
for k, v in tablex.sort { c = 3, a = 1, b = 2 } do sorted[#sorted + 1] = k .. "=" .. v end
print(table.concat(sorted, " "))
local byvalue = {}
for k, v in tablex.sortv { c = 1, a = 3, b = 2 } do byvalue[#byvalue + 1] = k end
print(table.concat(byvalue, " "), show(tablex.new(3, 0)), tablex.compare({ 1, 2 }, { 1, 2 }, "=="))
print(show(tablex.sub({ 1, 2, 3, 4 }, 2, 3)), show(tablex.removevalues({ 1, 2, 3, 4 }, 2, 3)), show(tablex.pairmap(function(k, v) return v, k end, { a = "x" })))
