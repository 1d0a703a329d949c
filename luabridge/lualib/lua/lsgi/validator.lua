-- lsgi.validator: a lint middleware in the spirit of Python's
-- wsgiref.validate. Put it between a server and an app (or between two
-- middleware) to check both sides of the LSGI contract while the app runs;
-- every violation raises an error starting with "lsgi.validator:" that says
-- what is wrong. `lsgi serve --dev` wraps every app in it.
--
-- API
--   validator.wrap(app) -> app     (the module is also callable: validator(app))
--
-- What it checks
--   The server side (environ): a plain table with REQUEST_METHOD,
--   SCRIPT_NAME, PATH_INFO, QUERY_STRING, SERVER_NAME, SERVER_PORT and
--   SERVER_PROTOCOL; every key without a "." holds a string; no
--   HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH; SCRIPT_NAME is not "/" and
--   PATH_INFO is "" or starts with "/"; CONTENT_LENGTH is digits;
--   lsgi.version, lsgi.url_scheme, lsgi.input, lsgi.errors and the three
--   booleans are present and of the right type. lsgi.input and lsgi.errors
--   are wrapped so that their methods get proper arguments and give proper
--   results.
--   The app side: app(environ, start_response) is called with exactly two
--   arguments; start_response gets a status "NNN Reason" (200 to 599, no
--   control characters, no surrounding space), headers as an array of
--   {name, value} string pairs with token names, no Status, no hop-by-hop
--   headers, values without control characters, a numeric Content-Length;
--   start_response is called once, or again only with exc_info; write gets
--   strings; the result is a body (not nil, a string or a number); every
--   chunk is a string; start_response is called before the first non-empty
--   chunk and before the body ends; the body is not iterated after it ended
--   or after close(), and close() is called at most once (and forwarded to
--   the app's body).
local body = require "lsgi.body"
-- The HTTP rules (tokens, field values, hop-by-hop names, status lines) come
-- from Go, where the host checks them too: they are written once.
local native = require "lsgi._native"
local type, select, error, tostring, rawget, pairs, next, setmetatable, getmetatable =
  type, select, error, tostring, rawget, pairs, next, setmetatable, getmetatable
local find, sub, lower, format = string.find, string.sub, string.lower, string.format

local M = {}

local function fail(msg, level)
  error("lsgi.validator: " .. msg, level and level + 1 or 0)
end

local REQUIRED = { "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
  "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL" }

local function describe(v)
  if type(v) == "string" then return format("%q", #v > 40 and sub(v, 1, 40) .. "..." or v) end
  return type(v) == "table" and "a table" or tostring(v)
end

local function wrap_input(input)
  local function check_result(name, v)
    if v ~= nil and type(v) ~= "string" then
      fail(format("lsgi.input:%s returned a %s, not a string or nil", name, type(v)))
    end
    return v
  end
  local w = {}
  function w.read(self, n, ...)
    if self ~= w then fail("call lsgi.input:read with a colon", 2) end
    if select("#", ...) > 0 then fail("lsgi.input:read takes at most one argument", 2) end
    if n ~= nil and (type(n) ~= "number" or n < 0 or n % 1 ~= 0) then
      fail("lsgi.input:read(n) needs a whole number n >= 0, got " .. describe(n), 2)
    end
    if n == nil then
      local v = input:read()
      if v == nil then fail("lsgi.input:read() returned nil; it must return \"\" when nothing is left") end
      return check_result("read", v)
    end
    return check_result("read", input:read(n))
  end
  function w.readline(self, n)
    if self ~= w then fail("call lsgi.input:readline with a colon", 2) end
    if n ~= nil and (type(n) ~= "number" or n < 0 or n % 1 ~= 0) then
      fail("lsgi.input:readline(n) needs a whole number n >= 0, got " .. describe(n), 2)
    end
    return check_result("readline", input:readline(n))
  end
  function w.readlines(self, hint)
    if self ~= w then fail("call lsgi.input:readlines with a colon", 2) end
    local t = input:readlines(hint)
    if type(t) ~= "table" then fail("lsgi.input:readlines returned a " .. type(t) .. ", not a table") end
    return t
  end
  function w.lines(self)
    if self ~= w then fail("call lsgi.input:lines with a colon", 2) end
    local it = input:lines()
    return function()
      return check_result("lines", it())
    end
  end
  function w.close()
    fail("an app must not close lsgi.input", 2)
  end
  return w
end

local function wrap_errors(errors)
  local w = {}
  function w.write(self, s)
    if self ~= w then fail("call lsgi.errors:write with a colon", 2) end
    if type(s) ~= "string" then fail("lsgi.errors:write needs a string, got " .. type(s), 2) end
    return errors:write(s)
  end
  function w.writelines(self, lines)
    if self ~= w then fail("call lsgi.errors:writelines with a colon", 2) end
    if type(lines) ~= "table" then fail("lsgi.errors:writelines needs a table of strings", 2) end
    for i = 1, #lines do
      if type(lines[i]) ~= "string" then fail("lsgi.errors:writelines: item " .. i .. " is not a string", 2) end
    end
    return errors:writelines(lines)
  end
  function w.flush(self)
    if self ~= w then fail("call lsgi.errors:flush with a colon", 2) end
    return errors:flush()
  end
  function w.close()
    fail("an app must not close lsgi.errors", 2)
  end
  return w
end

local function has_method(obj, name)
  local ok, m = pcall(function() return obj[name] end)
  return ok and m ~= nil
end

local function check_environ(environ)
  if type(environ) ~= "table" then fail("environ must be a table, got " .. type(environ), 3) end
  if getmetatable(environ) ~= nil then fail("environ must be a plain table without a metatable", 3) end
  for _, key in pairs(REQUIRED) do
    if type(rawget(environ, key)) ~= "string" then
      fail("environ." .. key .. " must be a string, got " .. type(rawget(environ, key)), 3)
    end
  end
  for k, v in pairs(environ) do
    if type(k) == "string" and not find(k, ".", 1, true) and type(v) ~= "string" then
      fail("environ." .. k .. " must be a string (CGI variables are strings), got " .. type(v), 3)
    end
  end
  if environ.HTTP_CONTENT_TYPE ~= nil or environ.HTTP_CONTENT_LENGTH ~= nil then
    fail("environ must not hold HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH (use CONTENT_TYPE, CONTENT_LENGTH)", 3)
  end
  if environ.REQUEST_METHOD == "" then fail("environ.REQUEST_METHOD is empty", 3) end
  if environ.SCRIPT_NAME == "/" then fail("environ.SCRIPT_NAME cannot be \"/\" (use \"\" at the root)", 3) end
  local p = environ.PATH_INFO
  if p ~= "" and sub(p, 1, 1) ~= "/" then
    fail("environ.PATH_INFO must be \"\" or start with \"/\", got " .. describe(p), 3)
  end
  if environ.SCRIPT_NAME ~= "" and sub(environ.SCRIPT_NAME, 1, 1) ~= "/" then
    fail("environ.SCRIPT_NAME must be \"\" or start with \"/\", got " .. describe(environ.SCRIPT_NAME), 3)
  end
  local cl = environ.CONTENT_LENGTH
  if cl ~= nil and not native.is_decimal(cl) then
    fail("environ.CONTENT_LENGTH must be decimal digits, got " .. describe(cl), 3)
  end
  local v = environ["lsgi.version"]
  if type(v) ~= "table" or v[1] ~= 1 then fail("environ[\"lsgi.version\"] must be {1, 0}", 3) end
  local scheme = environ["lsgi.url_scheme"]
  if scheme ~= "http" and scheme ~= "https" then
    fail("environ[\"lsgi.url_scheme\"] must be \"http\" or \"https\", got " .. describe(scheme), 3)
  end
  for _, key in pairs({ "lsgi.multithread", "lsgi.multiprocess", "lsgi.run_once" }) do
    if type(environ[key]) ~= "boolean" then fail("environ[\"" .. key .. "\"] must be a boolean", 3) end
  end
  local input = environ["lsgi.input"]
  if input == nil then fail("environ[\"lsgi.input\"] is missing", 3) end
  for _, m in pairs({ "read", "readline", "lines" }) do
    if not has_method(input, m) then fail("environ[\"lsgi.input\"] has no " .. m .. " method", 3) end
  end
  local errors = environ["lsgi.errors"]
  if errors == nil then fail("environ[\"lsgi.errors\"] is missing", 3) end
  for _, m in pairs({ "write", "flush" }) do
    if not has_method(errors, m) then fail("environ[\"lsgi.errors\"] has no " .. m .. " method", 3) end
  end
  environ["lsgi.input"] = wrap_input(input)
  environ["lsgi.errors"] = wrap_errors(errors)
end

local function check_status(status)
  if type(status) ~= "string" then
    fail("status must be a string like \"200 OK\", got " .. describe(status), 3)
  end
  local problem = native.check_status(status)
  if problem then fail(problem, 3) end
end

local function check_headers(headers)
  if type(headers) ~= "table" then
    fail("headers must be an array of {name, value} pairs, got " .. type(headers), 3)
  end
  local n = 0
  while rawget(headers, n + 1) ~= nil do n = n + 1 end
  for k in pairs(headers) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      fail("headers must be an array of {name, value} pairs, not a map (found key " .. describe(k) .. ")", 3)
    end
  end
  local lengths = nil
  for i = 1, n do
    local pair = rawget(headers, i)
    if type(pair) ~= "table" or rawget(pair, 3) ~= nil or pair[1] == nil then
      fail("headers[" .. i .. "] must be a {name, value} pair, got " .. describe(pair), 3)
    end
    local name, value = rawget(pair, 1), rawget(pair, 2)
    if type(name) ~= "string" then fail("headers[" .. i .. "]: the name must be a string, got " .. describe(name), 3) end
    if type(value) ~= "string" then
      fail("headers[" .. i .. "] (" .. name .. "): the value must be a string, got " .. describe(value), 3)
    end
    if not native.is_token(name) then fail("headers[" .. i .. "]: bad header name " .. describe(name), 3) end
    if native.is_reserved_header(name) then fail("headers[" .. i .. "]: an app must not send a Status header", 3) end
    if native.is_hop_by_hop(name) then
      fail("headers[" .. i .. "]: " .. name .. " is a hop-by-hop header, which only the server may send", 3)
    end
    if not native.is_field_value(value) then
      fail("headers[" .. i .. "] (" .. name .. "): the value contains control characters: " .. describe(value), 3)
    end
    if lower(name) == "content-length" then
      if not native.is_decimal(value) then fail("Content-Length must be decimal digits, got " .. describe(value), 3) end
      if lengths and lengths ~= value then fail("two different Content-Length headers", 3) end
      lengths = value
    end
  end
end

function M.wrap(app)
  local t = type(app)
  local mt = getmetatable(app)
  if not (t == "function" or ((t == "table" or t == "userdata") and type(mt) == "table" and mt.__call)) then
    fail("the app must be callable, got " .. t, 2)
  end
  return function(...)
    local nargs = select("#", ...)
    if nargs ~= 2 then fail("an app takes exactly two arguments (environ, start_response), got " .. nargs, 2) end
    local environ, start_response = ...
    check_environ(environ)
    if type(start_response) ~= "function" and not (type(start_response) == "table" and getmetatable(start_response)) then
      fail("start_response must be callable", 2)
    end

    -- Per-request state, shared with the closures below.
    local st = { started = false, count = 0, finished = false, closed = false }
    local function checked_start_response(...)
      local n = select("#", ...)
      local status, headers, exc_info = ...
      if n < 2 or n > 3 then
        fail("start_response takes two or three arguments (status, headers [, exc_info]), got " .. n, 2)
      end
      if st.started and not exc_info then
        fail("start_response called a second time without exc_info", 2)
      end
      st.started = true -- recorded before the checks: a second call after a bad one is still a second call
      check_status(status)
      check_headers(headers)
      local write = start_response(status, headers, exc_info)
      if type(write) ~= "function" then fail("start_response must return a write function", 2) end
      return function(...)
        if select("#", ...) ~= 1 then fail("write takes exactly one argument", 2) end
        local data = ...
        if type(data) ~= "string" then fail("write needs a string, got " .. describe(data), 2) end
        return write(data)
      end
    end

    local result = app(environ, checked_start_response)
    if result == nil or result == false then
      fail("the app returned " .. tostring(result) .. "; it must return a body ({} for an empty one)")
    end
    if type(result) == "string" then
      fail("the app returned a string; a body is an iterator of strings: return {s} instead")
    end
    if type(result) == "number" then
      fail("the app returned a number (a WSAPI-style `return status, headers, body`?); call start_response and return a body")
    end
    local kind, why = body.kind(result)
    if not kind then fail("the app " .. why) end

    if kind == "array" and getmetatable(result) == nil then
      -- A plain array is complete already: check it now and give it back as
      -- it is, so that the server still sees a one-chunk body.
      local i = 1
      while true do
        local chunk = rawget(result, i)
        if chunk == nil then break end
        if type(chunk) ~= "string" then
          fail(format("chunk %d of the body is a %s, not a string", i, type(chunk)))
        end
        if chunk ~= "" and not st.started then
          fail("the body has a non-empty chunk but start_response was not called")
        end
        i = i + 1
      end
      if not st.started then fail("the app returned its body without calling start_response") end
      return result
    end

    local next_chunk = body.iter(result)
    local wrapper = {}
    function wrapper.close()
      if st.closed then fail("close() called twice on the body", 2) end
      st.closed = true
      body.close(result)
    end
    return setmetatable(wrapper, {
      __call = function()
        if st.closed then fail("the body was iterated after close()") end
        if st.finished then fail("the body was iterated after it ended") end
        local chunk = next_chunk()
        if chunk == nil then
          st.finished = true
          if not st.started then fail("the body ended but start_response was never called") end
          return nil
        end
        st.count = st.count + 1
        if type(chunk) ~= "string" then
          fail(format("chunk %d of the body is a %s, not a string", st.count, type(chunk)))
        end
        if chunk ~= "" and not st.started then
          fail(format("chunk %d is not empty but start_response was not called yet", st.count))
        end
        return chunk
      end,
    })
  end
end

setmetatable(M, { __call = function(_, app) return M.wrap(app) end })

return M
