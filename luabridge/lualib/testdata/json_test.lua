local check = require "check"
local json = require "json"

local T = {}

function T.test_encode_values()
  check.eq(json.encode(nil), "null")
  check.eq(json.encode(json.null), "null")
  check.eq(json.encode(true), "true")
  check.eq(json.encode(42), "42")
  check.eq(json.encode(-0.5), "-0.5")
  check.eq(json.encode(1e21), "1e+21")
  check.eq(json.encode(1e-7), "1e-7")
  check.eq(json.encode(2 ^ 53), "9007199254740992")
  check.eq(json.encode("a\"b\\c\n\t\1<>&\226\128\168"), [["a\"b\\c\n\t\u0001\u003c\u003e\u0026\u2028"]])
  check.eq(json.encode({ 1, 2, "three" }), '[1,2,"three"]')
  check.eq(json.encode({ b = 1, a = { c = json.null } }), '{"a":{"c":null},"b":1}', "keys sorted")
  check.eq(json.encode({}), "[]", "an empty table is an array")
  check.eq(json.encode(json.object()), "{}")
  check.eq(json.encode(json.object({})), "{}")
  check.eq(json.encode({ list = json.array() }), '{"list":[]}')
  check.eq(json.encode({ 1, json.null, 3 }), "[1,null,3]")
  local shared = { 1 }
  check.eq(json.encode({ shared, shared }), "[[1],[1]]", "a table used twice is not a cycle")
  check.eq(json.encode({ a = 1 }, { indent = "  " }), '{\n  "a": 1\n}')
end

function T.test_encode_errors()
  check.raises(function() json.encode(function() end) end, "cannot encode a function")
  check.raises(function() json.encode({ [1] = 1, [3] = 3 }) end, "sparse array")
  check.raises(function() json.encode({ 1, x = 2 }) end, "both string keys and array items")
  check.raises(function() json.encode({ [true] = 1 }) end, "neither strings nor positive integers")
  check.raises(function() json.encode(0 / 0) end, "NaN")
  check.raises(function() json.encode(1 / 0) end, "infinity")
  check.raises(function() json.encode("\255binary") end, "invalid UTF-8")
  local cyc = {}
  cyc.me = cyc
  check.raises(function() json.encode(cyc) end, "contains itself")
  local err = check.raises(function() json.encode({ users = { { name = function() end } } }) end)
  check.contains(tostring(err), "value.users[1].name")
  check.raises(function() json.encode(json.array({ x = 1 })) end, "non-integer keys")
  check.raises(function() json.array(setmetatable({}, {})) end, "already has a metatable")
end

function T.test_decode()
  local v = json.decode('{"a":[1,null,"x",{"b":false}],"e":{},"l":[],"s":"\\u00e9\\n","n":-1.5e2}')
  check.eq(v.a[1], 1)
  check.eq(v.a[2], json.null, "null in an array keeps its place")
  check.eq(v.a[3], "x")
  check.eq(v.a[4].b, false)
  check.eq(#v.a, 4)
  check.eq(v.s, "\195\169\n")
  check.eq(v.n, -150)
  check.eq(json.encode(v.e), "{}", "an empty object stays an object")
  check.eq(json.encode(v.l), "[]")
  check.eq(json.decode("null"), json.null)
  check.eq(tostring(json.null), "null")
  check.eq(json.decode(' "top" '), "top")
  check.raises(function() json.decode("{") end, "unexpected end")
  check.raises(function() json.decode("[1,]") end, "json.decode")
  check.raises(function() json.decode("1 2") end, "after the top-level value")
  check.raises(function() json.decode('"\255"') end, "not valid UTF-8")
  check.raises(function() json.decode("") end, "unexpected end")
  check.raises(function() json.decode(string.rep("[", 2000) .. string.rep("]", 2000)) end, "data-depth limit")
end

function T.test_round_trip()
  local doc = { name = "LSGI", tags = { "lua", "go" }, nested = { { id = 1 }, { id = 2, note = json.null } }, ok = true }
  local again = json.decode(json.encode(doc))
  check.eq(json.encode(again), json.encode(doc))
end

return T
