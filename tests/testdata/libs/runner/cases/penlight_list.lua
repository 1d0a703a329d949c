-- pl.List: Python-style lists (Penlight manual, "Python-style Lists").
local List = require "pl.List"

local l = List { 10, 20, 30 }
l:append(40)
l:extend { 50, 60 }
l:insert(1, 5)
print(l, l:len())
print(l:contains(30), l:contains(31), l:index(30), l:count(20))
print(l:slice(2, 4), l:slice(-2))
print(l:pop(), l:pop(1), l)
l:remove_value(20)
print(l, l:reverse())
print(List.range(1, 10, 3), List.range(5))
print(List { 3, 1, 2 }:sort(), List { "b", "c", "a" }:sorted(function(a, b) return a > b end))
print(l:map(function(x) return x * 2 end), l:filter(function(x) return x > 25 end))
print(l:reduce("+"), l:map("*", 10))
print(List { 1, 2, 3 } .. List { 4 }, List { 1, 2 } == List { 1, 2 }, List { 1, 2 } == List { 2, 1 })
print(List.split("a,b,,c", ","), List { "x", "y" }:join("-"))
local parts = List { 1, 2, 3, 4, 5, 6 }:partition(function(x) return x % 3 end)
for _, k in ipairs { 0, 1, 2 } do print(k, parts[k]) end
local acc = {}
for x in List { "p", "q" }:iter() do acc[#acc + 1] = x end
print(table.concat(acc, "+"), List { 4, 9, 1 }:minmax())
print(List { "a", "b", "c", "d" }:chop(2, 3), List { 1, 2, 3 }:splice(2, { 7, 8 }))
print(List { "s", 1, true }, List { List { 1 }, List { 2 } })
