-- pl.pretty: writing and reading Lua tables as text (Penlight manual,
-- "Pretty-printing").
local pretty = require "pl.pretty"

local data = {
  name = "lsgi", list = { 1, 2.5, "three", true }, nested = { deep = { deeper = { x = 1 } } },
  ["key with space"] = "v", [10] = "ten", float = 0.25, big = 1e15, neg = -3,
}
print(pretty.write(data))
print(pretty.write(data, ""))
print(pretty.write({ 1, 2, { 3, 4 } }, " "))
print(pretty.write("a string\nwith a newline"))
local cyc = { name = "loop" }
cyc.self = cyc
print(pretty.write(cyc, ""))
print(pretty.number(1234567), pretty.number(123456789, "M"), pretty.number(2048, "N"), pretty.number(1500, "T"))
