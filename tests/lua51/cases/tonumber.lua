-- tonumber reads numbers as Lua 5.1 does (strtod and strtoul).
local inputs = {
  "10", "  10  ", "\t12\n", "1e5", "1E5", "1e+5", "1.5e-3", ".5", "5.", "-.5e1",
  "0x10", "0X1f", "-0x10", "0x", "0x1p4", "0x.8", "1e", "1e+", "e5", "",
  " ", "1 2", "- 1", "+1", "++1", "inf", "-inf", "INF", "infinity", "nan",
  "1x", "12\0", "1e400", "-1e400", "1e-400", "0x7fffffffffffffff", "010", "1,5",
}
for _, s in ipairs(inputs) do
  print(string.format("%q", s), tonumber(s))
end
print(tonumber(nil), tonumber(true), tonumber({}), tonumber(42), tonumber("42", 10))
local based = {
  {"10", 2}, {"10", 16}, {"ff", 16}, {"FF", 16}, {"0xff", 16}, {"-ff", 16},
  {"+ff", 16}, {" ff ", 16}, {"zz", 36}, {"Zz", 36}, {"8", 8}, {"19", 9},
  {"1e1", 16}, {"", 16}, {"0x", 16}, {"1.5", 16}, {"7fffffffffffffff", 16},
  {"ffffffffffffffffff", 16}, {"-1", 10}, {"777", 8}, {10, 16}, {"11", 2.9},
}
for _, c in ipairs(based) do
  print(c[1], c[2], tonumber(c[1], c[2]))
end
print(pcall(tonumber, "10", 1))
print(pcall(tonumber, "10", 37))
print(pcall(tonumber, {}, 16))
print(pcall(tonumber))
print(select("#", tonumber("x")))
