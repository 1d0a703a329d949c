-- Tests of lsgi.shared. Return values are OpenResty's (ngx.shared.DICT).
-- gotest.advance moves the dictionaries' clock.
local check = require "check"
local shared = require "lsgi.shared"
local gotest = require "gotest"

local T = {}

function T.module()
  local hits = shared.hits
  check.eq(type(hits), "userdata")
  check.eq(shared.hits, hits, "the same object each time")
  check.eq(shared.dict("hits"), hits)
  check.eq(tostring(hits), "lsgi.shared dictionary hits")
  check.eq(getmetatable(hits), "lsgi.shared.dict")
  check.eq(shared[1], nil)
  -- A dictionary named like a module function is reached through dict().
  local d = shared.dict("declare")
  d:set("k", 1)
  check.eq(shared.dict("declare"):get("k"), 1)
  check.eq(type(shared.declare), "function")
  check.raises(function() return shared["bad name"] end, "only letters, digits")
  check.raises(function() hits.get("k") end, "must be called with a colon")
end

function T.get_set()
  local d = shared.d
  check.eq(d:get("missing"), nil)
  check.same({ d:set("s", "text") }, { true, nil, false })
  check.eq(d:get("s"), "text")
  d:set("n", 42)
  check.eq(d:get("n"), 42)
  check.eq(type(d:get("n")), "number")
  d:set("digits", "42")
  check.eq(type(d:get("digits")), "string")
  d:set("f", 0.1)
  check.eq(d:get("f"), 0.1)
  d:set("t", true)
  d:set("no", false)
  check.eq(d:get("t"), true)
  check.eq(d:get("no"), false)
  d:set("bin", "a\0b\255")
  check.eq(d:get("bin"), "a\0b\255")
  -- Flags come back only when they are not 0.
  d:set("flagged", "v", 0, 7)
  check.same({ d:get("flagged") }, { "v", 7 })
  check.same({ d:get("s") }, { "text" })
  -- Numbers as keys are their text.
  d:set(12, "twelve")
  check.eq(d:get("12"), "twelve")
  -- set(key, nil) deletes.
  check.same({ d:set("s", nil) }, { true, nil, false })
  check.eq(d:get("s"), nil)
  d:delete("n")
  check.eq(d:get("n"), nil)
  d:delete("never there")
end

function T.add_replace()
  local d = shared.d
  check.same({ d:add("k", 1) }, { true, nil, false })
  check.same({ d:add("k", 2) }, { false, "exists", false })
  check.eq(d:get("k"), 1)
  check.same({ d:replace("absent", 1) }, { false, "not found", false })
  check.eq(d:get("absent"), nil)
  check.same({ d:replace("k", "two") }, { true, nil, false })
  check.eq(d:get("k"), "two")
  check.same({ d:safe_add("k", 3) }, { nil, "exists" })
  check.same({ d:safe_add("k2", 3) }, { true })
  check.same({ d:safe_set("k2", 4) }, { true })
  check.eq(d:get("k2"), 4)
  check.raises(function() d:add("k3", nil) end, "the value is nil")
end

function T.incr()
  local d = shared.d
  check.same({ d:incr("c", 1) }, { nil, "not found" })
  check.same({ d:incr("c", 1, 0) }, { 1, nil, false })
  check.same({ d:incr("c", 10, 0) }, { 11, nil, false })
  check.eq(d:incr("c", -0.5), 10.5)
  d:set("s", "x")
  check.same({ d:incr("s", 1, 0) }, { nil, "not a number" })
  check.raises(function() d:incr("c", "1") end, "the value to add must be a number")
  check.raises(function() d:incr("c", 1, "0") end, "init must be a number")
  check.raises(function() d:incr("c", 1, nil, 5) end, "init_ttl needs init")
  -- init_ttl applies to a new key only.
  check.eq(d:incr("t", 1, 0, 10), 1)
  check.eq(d:ttl("t"), 10)
  d:incr("t", 1, 0, 100)
  check.eq(d:ttl("t"), 10)
  gotest.advance(11)
  check.eq(d:get("t"), nil)
  check.eq(d:incr("t", 1, 5), 6)
end

function T.ttl_expire()
  local d = shared.d
  d:set("forever", 1)
  check.eq(d:ttl("forever"), 0)
  check.same({ d:ttl("absent") }, { nil, "not found" })
  d:set("soon", 1, 2.5)
  check.eq(d:ttl("soon"), 2.5)
  gotest.advance(1)
  check.eq(d:ttl("soon"), 1.5)
  check.eq(d:expire("soon", 10), true)
  check.eq(d:ttl("soon"), 10)
  check.same({ d:expire("absent", 1) }, { nil, "not found" })
  check.eq(d:expire("soon", 0), true)
  check.eq(d:ttl("soon"), 0)
  d:set("brief", "x", 0.001)
  gotest.advance(0.002)
  check.eq(d:get("brief"), nil)
  check.same({ d:ttl("brief") }, { nil, "not found" })
  check.raises(function() d:set("k", 1, -1) end, "exptime must be a number of seconds from 0 (never expires) to 1000000000")
  check.raises(function() d:set("k", 1, 1e300) end, "exptime must be")
  check.raises(function() d:set("k", 1, 0 / 0) end, "exptime must be")
  check.raises(function() d:expire("k") end, "exptime is missing")
  check.raises(function() d:set("k", 1, "10") end, "exptime")
end

function T.keys_and_flush()
  local d = shared.d
  for i = 1, 1100 do d:set("k" .. i, i) end
  check.eq(#d:get_keys(), 1024, "1024 by default, as OpenResty")
  check.eq(#d:get_keys(0), 1100)
  check.eq(#d:get_keys(5), 5)
  d:set("k1", 1, 1)
  d:set("k2", 2, 1)
  gotest.advance(2)
  check.eq(#d:get_keys(0), 1098, "expired keys are not listed")
  check.eq(d:flush_expired(), 2)
  check.eq(d:flush_expired(), 0)
  d:flush_all()
  check.same(d:get_keys(0), {})
  check.raises(function() d:get_keys(-1) end, "whole number")
end

function T.values_refused()
  local d = shared.d
  check.raises(function() d:set("k", {}) end, "a value is a string, a number or a boolean, not a table")
  check.raises(function() d:set("k", print) end, "not a function")
  check.raises(function() d:set("k", 0 / 0) end, "not finite")
  check.raises(function() d:set("k", 1 / 0) end, "not finite")
  check.raises(function() d:set(nil, 1) end, "the key must be a string or a number, not nil")
  check.raises(function() d:set("", 1) end, "the key is empty")
  check.raises(function() d:set(string.rep("k", 65536), 1) end, "more than 65535")
  check.raises(function() d:set("k", 1, 0, -1) end, "flags")
  check.raises(function() d:set("k", 1, 0, 1.5) end, "flags")
end

function T.too_large()
  local d = shared.declare("small", { size = "4k" })
  check.eq(d:capacity(), 4096)
  local ok, err = pcall(function() d:set("big", string.rep("x", 5000)) end)
  check.no(ok)
  check.contains(err, "lsgi.shared: small:set(\"big\"):")
  check.contains(err, "does not fit in dictionary \"small\" of 4096 bytes")
  check.contains(err, "declare a larger size")
  check.eq(d:get("big"), nil)
  -- The dictionary still works.
  check.eq(d:set("fine", "x"), true)
end

function T.lru()
  local d = shared.declare("lru", { size = 4096 })
  local value = string.rep("v", 370) -- 500 bytes with a key "kN" and the bookkeeping: 8 fit
  for i = 0, 7 do check.same({ d:set("k" .. i, value) }, { true, nil, false }) end
  check.eq(d:get("k0"), value) -- k1 is now the least recently used
  local ok, err, forcible = d:set("k8", value)
  check.eq(ok, true)
  check.eq(forcible, true, "an item that had not expired was evicted")
  check.eq(d:get("k1"), nil)
  check.eq(d:get("k0"), value)
  check.eq(d:get("k8"), value)
  check.same({ d:safe_set("k9", value) }, { nil, "no memory" })
  check.same({ d:safe_add("k9", value) }, { nil, "no memory" })
end

function T.declare()
  local d = shared.declare("cfg", { size = "64k" })
  check.eq(d:capacity(), 65536)
  check.eq(shared.cfg, d)
  d:set("k", 1)
  -- Declaring again changes the size, keeps the data.
  local again = shared.declare("cfg", { size = 131072 })
  check.eq(again:capacity(), 131072)
  check.eq(again:get("k"), 1)
  check.eq(shared.declare("dflt"):capacity(), 1024 * 1024)
  check.raises(function() shared.declare("x", { size = "lots" }) end, "size must be a number of bytes")
  check.raises(function() shared.declare("x", { size = 100 }) end, "at least 1024")
  check.raises(function() shared.declare("x", { size = 1.5e4 + 0.5 }) end, "size must be")
  check.raises(function() shared.declare("bad:name") end, "only letters")
end

function T.global()
  local g = shared.global.everyone
  check.eq(tostring(g), "lsgi.shared dictionary global.everyone")
  check.eq(shared.global.everyone, g)
  g:set("k", "v")
  check.eq(shared.everyone:get("k"), nil, "the app's own dictionary of that name is another one")
  check.eq(shared.global.tiny:capacity(), 4096)
  check.raises(function() return shared.global.nope end,
    "no host-wide dictionary \"nope\": the operator declares them with lsgi serve --shared-dict nope:SIZE")
  local ok, err = pcall(function() g:incr("k", 1) end)
  check.ok(ok)
end

function T.too_many()
  for i = 1, 64 do shared.dict("d" .. i) end
  local err = check.raises(function() return shared.one_too_many end, "too many dictionaries")
  check.contains(err, "lsgi.shared: dictionary \"one_too_many\"")
end

return T
