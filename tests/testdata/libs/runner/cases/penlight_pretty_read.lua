-- pl.pretty.read and pl.pretty.load: reading Lua tables from text (Penlight
-- manual, "Pretty-printing").
local pretty = require "pl.pretty"

local t, err = pretty.read("{ a = 1, b = { 'x', 'y' }, ['c d'] = true }")
print(t.a, t.b[2], t["c d"], err)
print(pretty.read("{ f = function() end }"))
print(pretty.read("not a table"))
local bad, msg = pretty.read("{ a = os.exit() }")
print(bad, msg ~= nil)
local env = pretty.load("x = 1; y = { 2, 3 }")
print(env.x, env.y[2])
print(pretty.load("for i = 1, 10 do end", nil, true))
local safe = pretty.load("z = 'paranoid'", nil, true)
print(safe.z)
