-- lsgi.middleware.headers: adds, overrides or removes response headers of
-- the app it wraps (the post-processing middleware of PEP 3333's examples,
-- e.g. adding X-A-SIMPLE-TOKEN to every response).
--
-- API
--   local headers = require "lsgi.middleware.headers"
--   app = headers(app, spec)           (also headers.wrap(app, spec))
--     spec is either an array of {name, value} pairs, each replacing any
--     header of the same name, or a table with these optional fields:
--       set     = { {name, value}, ... }  replace headers of that name
--       add     = { {name, value}, ... }  append, keeping existing ones
--       default = { {name, value}, ... }  set only when the app did not
--       remove  = { name, ... }           drop headers of that name
--     The operations run in the order remove, set, add, default. Names
--     compare case-insensitively.
--
-- The app's header list is copied, never changed in place; exc_info is
-- passed through; the body is the app's own body, so its close() reaches
-- the host unchanged (exactly once).
local type, error, ipairs, setmetatable = type, error, ipairs, setmetatable
local lower, find = string.lower, string.find

local M = {}

local function check_pairs(list, what)
  if type(list) ~= "table" then error("lsgi.middleware.headers: " .. what .. " must be an array of {name, value} pairs", 2) end
  for i, pair in ipairs(list) do
    if type(pair) ~= "table" or type(pair[1]) ~= "string" or type(pair[2]) ~= "string" then
      error("lsgi.middleware.headers: " .. what .. "[" .. i .. "] must be a {name, value} pair of strings", 2)
    end
    if find(pair[2], "[\r\n%z]") then
      error("lsgi.middleware.headers: the value of " .. pair[1] .. " contains CR, LF or NUL", 2)
    end
  end
  return list
end

function M.wrap(app, spec)
  if type(spec) ~= "table" then error("lsgi.middleware.headers: a spec table is needed", 2) end
  local set, add, default, remove
  if spec[1] ~= nil then
    set, add, default, remove = check_pairs(spec, "spec"), {}, {}, {}
  else
    set = spec.set and check_pairs(spec.set, "set") or {}
    add = spec.add and check_pairs(spec.add, "add") or {}
    default = spec.default and check_pairs(spec.default, "default") or {}
    remove = spec.remove or {}
    for i, name in ipairs(remove) do
      if type(name) ~= "string" then error("lsgi.middleware.headers: remove[" .. i .. "] must be a name", 2) end
    end
  end
  local drop = {}
  for _, name in ipairs(remove) do drop[lower(name)] = true end
  for _, pair in ipairs(set) do drop[lower(pair[1])] = true end

  local function transform(headers)
    local out, present = {}, {}
    for _, pair in ipairs(headers) do
      if type(pair) ~= "table" or type(pair[1]) ~= "string" then
        return headers -- malformed: pass it on untouched for the server to report
      end
      local key = lower(pair[1])
      if not drop[key] then
        out[#out + 1] = { pair[1], pair[2] }
        present[key] = true
      end
    end
    for _, pair in ipairs(set) do out[#out + 1] = { pair[1], pair[2] }; present[lower(pair[1])] = true end
    for _, pair in ipairs(add) do out[#out + 1] = { pair[1], pair[2] }; present[lower(pair[1])] = true end
    for _, pair in ipairs(default) do
      if not present[lower(pair[1])] then out[#out + 1] = { pair[1], pair[2] } end
    end
    return out
  end

  return function(environ, start_response)
    return app(environ, function(status, headers, exc_info)
      if type(headers) ~= "table" then
        return start_response(status, headers, exc_info) -- malformed: the server reports it
      end
      return start_response(status, transform(headers), exc_info)
    end)
  end
end

setmetatable(M, { __call = function(_, app, spec) return M.wrap(app, spec) end })

return M
