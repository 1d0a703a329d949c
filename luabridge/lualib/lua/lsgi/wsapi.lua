-- lsgi.wsapi: runs a WSAPI application (the Kepler project's Lua web server
-- API) as an LSGI app. A WSAPI app is a function run(wsapi_env) that returns
-- status, headers and a body iterator; an LSGI app calls start_response and
-- returns the body (docs/SPEC.md, "What is an error", says why the host
-- refuses the WSAPI form on its own).
--
-- API
--   local wsapi = require "lsgi.wsapi"
--   app = wsapi.adapt(wsapi_app [, options])
--       wsapi_app  a function run(wsapi_env); a table with a run function (a
--                  module, as WSAPI's samples are); or the name of such a
--                  module, which is required now
--       options.app_path  APP_PATH in the WSAPI environment; default ".",
--                  the app's own folder as dofile, loadfile and lfs see it
--   wsapi.env(environ [, options]) -> wsapi_env
--       the WSAPI environment of an LSGI environ: every variable of environ;
--       "" for any variable it lacks (a metatable); PATH_INFO "/" when empty;
--       APP_PATH; input (read([n])) over lsgi.input; error (write(...))
--       over lsgi.errors
--   wsapi.status(status) -> "200 OK"
--       a WSAPI status (a number, "200" or "200 OK") as an LSGI status line
--   wsapi.headers(headers [, errors]) -> {{name, value}, ...}
--       a WSAPI header table (name -> string, or name -> array of strings;
--       numbers are converted) as an LSGI header list, names sorted.
--       Hop-by-hop headers (Connection, Transfer-Encoding, ...) are dropped,
--       with a line on errors (an lsgi.errors stream) when one is given: the
--       server frames the response itself.
--   wsapi.body(body) -> an LSGI body
--       a function or coroutine becomes an iterator that turns number chunks
--       into strings; a table or userdata is returned as it is (its close()
--       reaches the server)
--
-- A WSAPI middleware is a WSAPI app that calls another one and returns its
-- status, headers and body, changed or not; adapt the outermost one.
--
-- What differs from WSAPI's own connectors: an error raised while the body is
-- iterated aborts the response (docs/SPEC.md, "Errors and status codes")
-- instead of appending the error text to the page, and an error raised by
-- run() gives the host's plain 500 page, with the traceback in the log.
-- Error levels below are one higher than reference Lua's would be: gopher-lua
-- v1.1.2 counts the function that calls error() twice.
local util = require "lsgi.util"
local lbody = require "lsgi.body"
local type, tostring, error, pairs, ipairs, select = type, tostring, error, pairs, ipairs, select
local setmetatable, getmetatable, rawget, tonumber, require = setmetatable, getmetatable, rawget, tonumber, require
local sort, concat, match = table.sort, table.concat, string.match

local M = {}

-- Undefined CGI variables read as "" in a WSAPI environment.
local env_meta = {
  __index = function(_, key)
    if type(key) == "string" then return "" end
    return nil
  end,
}

-- Input is wsapi_env.input: read(n) returns n bytes (fewer only at the end of
-- the body) or nil when nothing is left; read() returns the rest of the body.
local Input = {}
Input.__index = Input

function Input:read(n)
  local stream = self.stream
  if type(n) == "string" then return stream:read(n) end -- "*a", "*l": as io does
  if n == nil then
    local rest = stream:read()
    if rest == nil or rest == "" then return nil end
    return rest
  end
  n = tonumber(n)
  if not n then error("lsgi.wsapi: input:read takes a number of bytes", 2) end
  if n <= 0 then return nil end
  -- An LSGI server may return fewer bytes than asked; WSAPI code (such as
  -- wsapi.request) reads the whole body with one read(CONTENT_LENGTH).
  local parts, got = {}, 0
  while got < n do
    local chunk = stream:read(n - got)
    if chunk == nil or chunk == "" then break end
    parts[#parts + 1] = chunk
    got = got + #chunk
  end
  if got == 0 then return nil end
  return concat(parts)
end

-- Errors is wsapi_env.error: write(...) writes each value to lsgi.errors.
local Errors = {}
Errors.__index = Errors

function Errors:write(...)
  local stream = self.stream
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if type(s) == "number" then s = tostring(s) end
    stream:write(s)
  end
  return self
end

function Errors:flush()
  local flush = self.stream.flush
  if flush then flush(self.stream) end
  return self
end

function M.env(environ, options)
  if type(environ) ~= "table" then error("lsgi.wsapi: env needs the LSGI environ table", 3) end
  local app_path = options and options.app_path or "."
  local env = {}
  for key, value in pairs(environ) do env[key] = value end
  local path_info = environ.PATH_INFO
  if path_info == nil or path_info == "" then env.PATH_INFO = "/" end
  env.APP_PATH = app_path
  env.input = setmetatable({ stream = environ["lsgi.input"], length = tonumber(environ.CONTENT_LENGTH) or 0 }, Input)
  env.error = setmetatable({ stream = environ["lsgi.errors"] }, Errors)
  return setmetatable(env, env_meta)
end

function M.status(status)
  local t = type(status)
  if t == "number" or (t == "string" and match(status, "^%d%d%d$")) then
    local code = tonumber(status)
    if code < 100 or code > 599 or code ~= code - code % 1 then
      error("lsgi.wsapi: the WSAPI app returned status " .. tostring(status) .. ": not an HTTP status code", 3)
    end
    return util.status_line(code)
  elseif t == "string" then
    return status
  end
  error("lsgi.wsapi: the WSAPI app returned a " .. t .. " as its status: expected a number (200) or a status line (\"200 OK\")", 3)
end

local function header_value(name, value)
  local t = type(value)
  if t == "string" then return value end
  if t == "number" or t == "boolean" then return tostring(value) end
  error("lsgi.wsapi: the value of header " .. tostring(name) .. " is a " .. t .. ": expected a string or an array of strings", 4)
end

local function add_header(list, name, value, errors)
  if util.is_hop_by_hop(name) then
    if errors then
      errors:write("lsgi.wsapi: dropped the hop-by-hop header " .. name .. ": the server frames the response\n")
    end
    return
  end
  list[#list + 1] = { name, value }
end

function M.headers(headers, errors)
  if headers == nil then return {} end
  if type(headers) ~= "table" then
    error("lsgi.wsapi: the WSAPI app returned a " .. type(headers) .. " as its headers: expected a table of name = value", 3)
  end
  local list, names = {}, {}
  for name, value in pairs(headers) do
    if type(name) == "string" then
      names[#names + 1] = name
    elseif type(value) == "table" and type(value[1]) == "string" then
      add_header(list, value[1], header_value(value[1], value[2]), errors) -- an LSGI {name, value} pair
    else
      error("lsgi.wsapi: header names must be strings, got a " .. type(name), 3)
    end
  end
  sort(names)
  for _, name in ipairs(names) do
    local value = headers[name]
    if type(value) == "table" then
      for _, v in ipairs(value) do add_header(list, name, header_value(name, v), errors) end
    else
      add_header(list, name, header_value(name, value), errors)
    end
  end
  return list
end

function M.body(body)
  local t = type(body)
  if t == "function" or t == "thread" then
    local next_chunk = lbody.iter(body)
    return function()
      local chunk = next_chunk()
      if type(chunk) == "number" then return tostring(chunk) end
      return chunk
    end
  elseif t == "table" or t == "userdata" then
    return body
  end
  error("lsgi.wsapi: the WSAPI app returned a " .. t .. " as its body: expected an iterator (a function such as coroutine.wrap(...) gives)", 3)
end

-- callable reports whether v can be called like a function.
local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

-- run_function finds the run function of a WSAPI app, as WSAPI's own
-- launchers do (wsapi.common.normalize_app).
local function run_function(app, name)
  if type(app) == "string" then
    return run_function(require(app), app)
  end
  if type(app) == "table" and callable(rawget(app, "run") or app.run) then
    return app.run
  end
  if callable(app) then return app end
  local what = name and ("module " .. name .. " gave a " .. type(app)) or ("got a " .. type(app))
  error("lsgi.wsapi: adapt needs a WSAPI app: a function run(wsapi_env), a table with a run function, or a module name (" .. what .. ")", 4)
end

function M.adapt(app, options)
  local run = run_function(app)
  if options ~= nil and type(options) ~= "table" then error("lsgi.wsapi: options must be a table", 3) end
  local env_options = { app_path = options and options.app_path or "." }
  if type(env_options.app_path) ~= "string" then error("lsgi.wsapi: options.app_path must be a string", 3) end
  return function(environ, start_response)
    local status, headers, body = run(M.env(environ, env_options))
    start_response(M.status(status), M.headers(headers, environ["lsgi.errors"]))
    return M.body(body)
  end
end

return M
