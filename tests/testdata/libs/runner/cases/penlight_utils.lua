-- pl.utils: general helpers (Penlight manual, "Generally useful functions").
local utils = require "pl.utils"

print(utils.split("a:b:c", ":")[2], #utils.split("x  y"), utils.splitv("1,2,3", ","))
local calls = 0
local square = utils.memoize(function(x) calls = calls + 1; return x * x end)
print(square(4), square(4), calls)
print(utils.bind1(math.max, 10)(3), utils.bind2(string.rep, 3)("ab"))
print(utils.string_lambda("|x| x + 1")(41), utils.string_lambda("_ * 2")(21))
print(utils.choose(true, "yes", "no"), utils.choose(false, "yes", "no"))
print(table.concat(utils.array_tostring({ 4, 5 }), ","), table.concat(utils.array_tostring({ 1.5, true }), ","))
print(utils.escape("a.b*c"), utils.quote_arg({ "x", "y z" }))
local packed = utils.pack(1, nil, 3)
print(packed.n, utils.unpack(packed))
local acc = {}
for i, v in utils.npairs(packed) do acc[#acc + 1] = i .. "=" .. tostring(v) end
print(table.concat(acc, " "))
print(utils.is_type("x", "string"), utils.is_type(1, "string"))
print(utils.raise == nil, utils.on_error and "on_error" or "none")
utils.on_error("default")
print(utils.raise("oops"))
local e = utils.enum("A", "B")
print(e.A, e.B, (pcall(function() return e.C end)))
print(select("#", utils.unpack({ 1, 2, n = 4 })))
local k = {}
for key in utils.kpairs({ "skip", x = 1 }) do k[#k + 1] = key end
print(table.concat(k, ","))
