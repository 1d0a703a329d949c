-- dkjson: JSON for Lua (its readme), without LPeg.
local json = require "dkjson"

print(json.encode({ 1, 2, 3, "x" }))
print(json.encode({ name = "Ann", tags = { "a", "b" }, n = 1.5, ok = true, none = json.null },
  { keyorder = { "name", "n", "ok", "none", "tags" } }))
print(json.encode({ b = { c = { 1, { d = 2 } } }, a = "z" }, { indent = true, keyorder = { "a", "b", "c", "d" } }))
print(json.encode("quote \" backslash \\ slash / tab \t nl \n ctl \1"))
print(json.encode("unicode: é ü € 😀"))
print(json.encode({ 1e300, -0.5, 123456789012, 1 / 3, 100 }))
print(json.encode({}), json.encode(setmetatable({}, { __jsontype = "object" })), json.encode({ [1] = 1, [3] = 3 }))

local function show(v, indent)
  indent = indent or ""
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. show(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  if type(v) == "number" then return string.format("%.17g", v) end
  return tostring(v)
end

local decoded = json.decode('{"e1": 1e5, "e2": -2.5E-3, "e3": 6.02e+23, "int": 42, "neg": -0, "frac": 0.1}')
print(show(decoded))
print(show(json.decode('["\\u00e9", "\\u20ac", "\\ud83d\\ude00", "tab\\there", "\\/"]')))
print(show(json.decode('{"nested": {"list": [1, [2, [3]]], "null": null, "t": true, "f": false}}')))
local withnull = json.decode('[1, null, 3]', 1, json.null)
print(#withnull, withnull[2] == json.null)
local obj, pos, err = json.decode('{"a": 1,}')
print(type(obj), pos, err)
obj, pos, err = json.decode('[1, 2')
print(obj, pos, err)
local value, next_pos = json.decode('{"x": 1} trailing', 1)
print(value.x, next_pos)
local meta = getmetatable(json.decode('[]'))
print(meta and meta.__jsontype, getmetatable(json.decode('{}')).__jsontype)
print(json.quotestring("a\"b"), json.version)
print(select("#", json.use_lpeg and 1 or nil))
