-- pl.utils' argument checks: their messages, with the position Lua 5.1
-- gives error(message, level).
local utils = require "pl.utils"

print(pcall(utils.assert_arg, 1, 42, "string"))
print(pcall(function() utils.assert_arg(2, {}, "number") end))
print(pcall(utils.assert_string, 1, false))
local e = utils.enum("A", "B")
print(pcall(function() return e.C end))
