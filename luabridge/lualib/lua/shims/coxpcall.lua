-- coxpcall: the toolkit's stand-in for the Kepler project's coxpcall module,
-- used only when the app brings no coxpcall.lua of its own. It offers the
-- same API: pcall and xpcall that a coroutine can yield through, and a
-- running that sees through them.
--
--   local coxpcall = require "coxpcall"
--   coxpcall.pcall(f, ...)        -> true, results... | false, err
--   coxpcall.xpcall(f, handler, ...) -> true, results... | false, handler(err)
--       the handler runs after the error has unwound f's stack; a string
--       error gets the traceback appended first, as coxpcall does
--   coxpcall.running([co]) -> the coroutine that called the pcall or xpcall
--       running co (or the current coroutine), nil in the main thread
-- The globals copcall and coxpcall are set too, as coxpcall sets them.
--
-- When the engine lets a coroutine yield across its own pcall and xpcall
-- (tried once, when this module loads), they are used as they are.
-- Otherwise f runs in a coroutine of its own, and each value it yields is
-- passed on to the caller's resumer, then the answer back to f.
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_status, co_running = coroutine.status, coroutine.running
local native_pcall, native_xpcall = pcall, xpcall
local type, select, unpack, tostring, rawget = type, select, unpack, tostring, rawget

-- yields_through reports whether a coroutine can yield through protect (a
-- function calling pcall or xpcall): yielding "probe" out and getting "back"
-- in as the protected call's result.
local function yields_through(protect)
  local co = co_create(protect)
  local ok, resumed, value = native_pcall(co_resume, co)
  if not (ok and resumed and value == "probe" and co_status(co) == "suspended") then return false end
  local ok2, resumed2, ok3, value2 = native_pcall(co_resume, co, "back")
  return ok2 and resumed2 and ok3 and value2 == "back" and co_status(co) == "dead"
end

local function yield_probe() return co_yield("probe") end

local native_safe = yields_through(function() return native_pcall(yield_probe) end)
  and yields_through(function() return native_xpcall(yield_probe, tostring) end)

local M = {}

if native_safe then
  M.pcall, M.xpcall, M.running = native_pcall, native_xpcall, co_running
  copcall, coxpcall = native_pcall, native_xpcall
  return M
end

-- parent maps each coroutine made here to the coroutine that made it; an
-- entry is removed when its coroutine ends (gopher-lua's weak tables are
-- strong, so a weak map would keep them all).
local parent = {}

local function traceback(co, err)
  local dbg = rawget(_G, "debug")
  local tb = type(dbg) == "table" and dbg.traceback
  if type(err) ~= "string" or type(tb) ~= "function" then return err end
  local ok, trace = native_pcall(tb, co)
  if not ok or type(trace) ~= "string" then return err end
  return err .. "\n" .. trace
end

-- step handles what one resume of co gave: an error, the end of f, or a
-- yield to pass on outward (then co is resumed with what comes back).
local function step(co, handler, ok, ...)
  if not ok then
    parent[co] = nil
    local err = ...
    if handler then return false, handler(traceback(co, err)) end
    return false, err
  end
  if co_status(co) == "dead" then
    parent[co] = nil
    return true, ...
  end
  return step(co, handler, co_resume(co, co_yield(...)))
end

local function protected(f, handler, ...)
  local current = co_running()
  if current == nil then
    -- The main thread cannot yield at all: the engine's own calls will do.
    if handler == nil then return native_pcall(f, ...) end
    local n, args = select("#", ...), { ... }
    return native_xpcall(function() return f(unpack(args, 1, n)) end, handler)
  end
  local made, co = native_pcall(co_create, f)
  if not made then
    -- f is not a function (a callable table): call it from one.
    co = co_create(function(...) return f(...) end)
  end
  parent[co] = current
  return step(co, handler, co_resume(co, ...))
end

function M.pcall(f, ...)
  return protected(f, nil, ...)
end

function M.xpcall(f, handler, ...)
  if type(handler) ~= "function" then
    -- Lua's xpcall reports a bad handler through the handler, which fails.
    return false, "coxpcall: the error handler must be a function, got a " .. type(handler)
  end
  return protected(f, handler, ...)
end

function M.running(co)
  if co ~= nil and type(co) ~= "thread" then
    error("coxpcall.running: bad argument #1 (thread expected, got " .. type(co) .. ")", 2)
  end
  co = co or co_running()
  while parent[co] do co = parent[co] end
  return co
end

copcall, coxpcall = M.pcall, M.xpcall
return M
