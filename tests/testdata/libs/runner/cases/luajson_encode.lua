-- lua-json (luajson): its encoder, which is pure Lua (the decoder needs
-- LPeg, a C module, so it is not loaded here).
local encode = require "json.encode"

print(encode({ 1, 2, 3 }))
print(encode({ key = "value" }))
print(encode("quote \" and \\ and \n and é"))
print(encode({ true, false, 1.5, -2, 1e10 }))
print(encode({ nested = { list = { "a" } } }))
print(encode(encode.null or "no null"))
local strict = encode.getEncoder(encode.strict)
print(strict({ 1, "two" }))
print(pcall(strict, 1 / 0))
print(encode({ 1, 2 }, { array = { trailingComma = false } }))
