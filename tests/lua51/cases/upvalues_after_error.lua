-- After an error caught by pcall, closures keep sharing the locals of the
-- functions still running (yuin/gopher-lua#448), and closures made in the
-- functions the error unwound keep the values those had.

do
  local y = 1
  local function sety(v) y = v end
  pcall(error, "boom")
  sety(2)
  print("setter after pcall", y)
  y = 3
  local function gety() return y end
  print("getter after pcall", gety())
end

do
  local n = 0
  local function inc() n = n + 1 end
  for i = 1, 3 do
    inc()
    pcall(function() error("again") end)
  end
  inc()
  print("counter across errors", n)
end

do
  local y = 1
  local function sety(v) y = v end
  pcall(function()
    pcall(function() end)
    error("after a nested pcall")
  end)
  sety(5)
  print("nested pcall then error", y)
end

do
  local y = 1
  local function sety(v) y = v end
  xpcall(function() error("x") end, function(m) return m end)
  sety(6)
  print("after xpcall", y)
end

do
  local saved
  pcall(function()
    local z = 1
    saved = function() return z end
    z = 2
    error("unwind")
  end)
  local a, b, c, d = 10, 20, 30, 40
  print("closure of an unwound function", saved(), a + b + c + d)
end

do
  local saved
  xpcall(function()
    local z = 7
    saved = function() return z end
    error("unwind")
  end, function(m) return m end)
  local p, q, r = 11, 22, 33
  print("closure after xpcall", saved(), p + q + r)
end

do
  local seen
  xpcall(function()
    local z = "inside"
    seen = function() return z end
    error("e")
  end, function(m) print("handler sees", seen()) return m end)
  print("after handler", seen())
end

-- A loader that catches an error of its own, as modules often do at load.
do
  local loaded
  local function load_module()
    local ok = pcall(function() error("optional dependency missing") end)
    return { ok = ok }
  end
  local function init() loaded = load_module() end
  init()
  print("assigned inside a closure", type(loaded), loaded and loaded.ok)
end

-- A hot swap keeps the error it caught (the pattern of lume.hotswap).
do
  local err
  local function setter(e) err = e end
  local function hotswap()
    local ok, e = pcall(function() error("swap failed", 0) end)
    if not ok then setter(e) end
    return err
  end
  print("hotswap returns", hotswap())
  print("hotswap kept", err)
end

-- Errors in coroutines inside pcall.
do
  local x = 0
  local function bump() x = x + 1 end
  local co = coroutine.create(function() bump(); error("in coroutine") end)
  print("resume", coroutine.resume(co))
  pcall(function() bump(); error("x") end)
  bump()
  print("bumped", x)
end

-- Error values: strings, tables, nil, numbers.
print("string", pcall(error, "s", 0))
print("number", pcall(error, 42, 0))
print("nil", pcall(error))
print("nil value", pcall(error, nil))
do local t = {}; local ok, e = pcall(error, t); print("table identity", ok, e == t) end
print("results", pcall(function(...) return ... end, 1, nil, 3))
print("count", select("#", pcall(function() return nil, nil end)))
print("non-callable", pcall(42))
print("callable table", pcall(setmetatable({}, {__call = function(_, a) return "called", a end}), 5))
print("xpcall ok", xpcall(function() return 1, 2 end, print))
print("xpcall handler", xpcall(function() error("a", 0) end, function(m) return "handled " .. m end))
print("xpcall failing handler", xpcall(function() error("a") end, function(m) error("in handler") end))
print("xpcall nil handler", xpcall(function() error("a") end, nil))

-- A pcall inside an xpcall.
do
  local saved
  xpcall(function()
    pcall(function()
      local z = "inner"
      saved = function() return z end
      error("e")
    end)
  end, function(m) return m end)
  local p, q, r = 1, 2, 3
  print("pcall inside xpcall", saved(), p + q + r)
end
