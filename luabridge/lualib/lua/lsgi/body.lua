-- lsgi.body: helpers for code that consumes an LSGI result (middleware,
-- test servers). An LSGI result is one of (docs/SPEC.md "The result"):
--   a function      called with no arguments until it returns nil;
--   a coroutine     resumed until it is dead; only yielded values count;
--   a callable      a table or userdata with __call, called like a function;
--   an array        a table whose t[1], t[2], ... (up to the first nil) are
--                   the chunks.
--
-- API
--   body.kind(result) -> "function" | "thread" | "callable" | "array", or
--                        nil and a message saying what is wrong
--   body.iter(result) -> next: a function returning the next chunk, or nil
--                        at the end (then nil forever, without touching the
--                        result again). Raises when result is not a body.
--                        Chunks are returned as they are: checking that they
--                        are strings is the caller's job.
--   body.close(result)   calls result:close() if result has a close field
--                        (looked up through __index, as class instances
--                        inherit it). Call it exactly once per result.
--   body.has_close(result) -> boolean
local type, getmetatable, rawget, error = type, getmetatable, rawget, error
local co_resume, co_status = coroutine.resume, coroutine.status

local M = {}

local function callable(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

function M.kind(result)
  local t = type(result)
  if t == "function" then return "function" end
  if t == "thread" then return "thread" end
  if t == "table" then
    if callable(result) then return "callable" end
    return "array"
  end
  if t == "userdata" and callable(result) then return "callable" end
  if t == "string" then
    return nil, "a string is not a body: return {s} instead"
  end
  return nil, "expected a body (a function, a coroutine, a callable object or an array of strings), got a " .. t
end

function M.iter(result)
  local kind, why = M.kind(result)
  if not kind then error("lsgi.body: " .. why, 2) end
  local done = false
  if kind == "array" then
    local i = 0
    return function()
      if done then return nil end
      i = i + 1
      local chunk = rawget(result, i)
      if chunk == nil then done = true end
      return chunk
    end
  elseif kind == "thread" then
    return function()
      if done then return nil end
      local ok, chunk = co_resume(result)
      if not ok then
        done = true
        error(chunk, 0)
      end
      if co_status(result) == "dead" then
        done = true
        return nil -- a coroutine's final return values are not chunks
      end
      if chunk == nil then return "" end -- coroutine.yield() with no value
      return chunk
    end
  else
    return function()
      if done then return nil end
      local chunk = result()
      if chunk == nil then done = true end
      return chunk
    end
  end
end

local function close_field(result)
  local t = type(result)
  if t == "table" then
    return result.close
  elseif t == "userdata" then
    local ok, c = pcall(function() return result.close end)
    if ok then return c end
  end
  return nil
end

function M.has_close(result)
  return close_field(result) ~= nil
end

function M.close(result)
  local c = close_field(result)
  if c ~= nil then c(result) end
end

return M
