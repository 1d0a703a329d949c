-- lsgi.response: a Response object in the manner of Werkzeug's. A response
-- is itself an LSGI app, so a handler ends with
--     return resp(environ, start_response)
--
-- API
--   Response.new([body [, status [, headers]]]) -> resp  (also Response(...))
--       body     a string, an array of strings, or any LSGI body (a function,
--                a coroutine, a callable object) to stream; default ""
--       status   a number (200) or a full status line ("200 OK"); default 200
--       headers  an array of {name, value} pairs, or a map name -> value
--   Response.text(s [, status [, headers]])   text/plain; charset=utf-8
--   Response.html(s [, status [, headers]])   text/html; charset=utf-8
--   Response.json(value [, status [, headers]])  application/json (json.encode)
--   Response.redirect(location [, status])    302 by default, with Location
--   Response.abort(status [, message [, headers]])  raises an HTTP error that
--       lsgi.middleware.errors turns into that response (e.g. abort(404))
--   Response.is_http_error(err) -> boolean
--
--   resp.status                   number or status line; may be assigned
--   resp.body                     may be assigned
--   resp.headers                  the array of {name, value} pairs
--   resp:set_header(name, value)  replaces every header of that name
--   resp:add_header(name, value)  adds one more (e.g. a second Link)
--   resp:get_header(name) -> first value or nil (names are case-insensitive)
--   resp:get_all_headers(name) -> array of values
--   resp:remove_header(name)
--   resp:set_cookie(name, value [, opts])  opts: path, domain, max_age,
--       expires (Unix time), secure, http_only, same_site ("Strict", "Lax",
--       "None"), partitioned. Invalid names or values raise.
--   resp:delete_cookie(name [, opts])       opts: path, domain
--   resp(environ, start_response) -> body   runs the response as an app
--
-- When called, a response with a string body gets a Content-Length, and a
-- response without a Content-Type gets "text/plain; charset=utf-8" unless
-- its status forbids a body (1xx, 204, 304). Header names and values must be
-- strings; the host checks them again when start_response is called.
local util = require "lsgi.util"
local type, setmetatable, tostring, error, pairs, ipairs = type, setmetatable, tostring, error, pairs, ipairs
local lower, find, sort = string.lower, string.find, table.sort

local Response = {}
Response.__index = Response

local DEFAULT_TYPE = "text/plain; charset=utf-8"

local function check_header(name, value, level)
  if type(name) ~= "string" then
    error("lsgi.response: header name must be a string, got " .. type(name), level + 1)
  end
  if type(value) ~= "string" then
    error("lsgi.response: value of header " .. name .. " must be a string, got " .. type(value), level + 1)
  end
  if find(value, "[\r\n%z]") then
    error("lsgi.response: value of header " .. name .. " contains CR, LF or NUL", level + 1)
  end
end

local function normalize_headers(headers, level)
  local list = {}
  if headers == nil then return list end
  if type(headers) ~= "table" then
    error("lsgi.response: headers must be a table", level + 1)
  end
  if headers[1] ~= nil then
    for i, pair in ipairs(headers) do
      if type(pair) ~= "table" then
        error("lsgi.response: headers[" .. i .. "] must be a {name, value} pair", level + 1)
      end
      check_header(pair[1], pair[2], level + 2)
      list[#list + 1] = { pair[1], pair[2] }
    end
  else
    local names = {}
    for name in pairs(headers) do names[#names + 1] = name end
    sort(names, function(a, b) return tostring(a) < tostring(b) end)
    for _, name in ipairs(names) do
      check_header(name, headers[name], level + 2)
      list[#list + 1] = { name, headers[name] }
    end
  end
  return list
end

function Response.new(body, status, headers)
  if status ~= nil and type(status) ~= "number" and type(status) ~= "string" then
    error("lsgi.response: status must be a number or a status line", 2)
  end
  return setmetatable({
    body = body == nil and "" or body,
    status = status or 200,
    headers = normalize_headers(headers, 2),
  }, Response)
end

setmetatable(Response, { __call = function(_, ...) return Response.new(...) end })

function Response:add_header(name, value)
  check_header(name, value, 2)
  local h = self.headers
  h[#h + 1] = { name, value }
  return self
end

function Response:remove_header(name)
  local key, h, out = lower(name), self.headers, {}
  for i = 1, #h do
    if lower(h[i][1]) ~= key then out[#out + 1] = h[i] end
  end
  self.headers = out
  return self
end

function Response:set_header(name, value)
  check_header(name, value, 2)
  self:remove_header(name)
  local h = self.headers
  h[#h + 1] = { name, value }
  return self
end

function Response:get_header(name)
  local key, h = lower(name), self.headers
  for i = 1, #h do
    if lower(h[i][1]) == key then return h[i][2] end
  end
  return nil
end

function Response:get_all_headers(name)
  local key, h, out = lower(name), self.headers, {}
  for i = 1, #h do
    if lower(h[i][1]) == key then out[#out + 1] = h[i][2] end
  end
  return out
end

function Response:set_cookie(name, value, opts)
  if type(name) ~= "string" or type(value) ~= "string" then
    error("lsgi.response: set_cookie(name, value) takes two strings", 2)
  end
  return self:add_header("Set-Cookie", util.cookie(name, value, opts))
end

function Response:delete_cookie(name, opts)
  opts = opts or {}
  return self:add_header("Set-Cookie", util.cookie(name, "", {
    path = opts.path, domain = opts.domain, secure = opts.secure,
    http_only = opts.http_only, same_site = opts.same_site,
    max_age = 0, expires = 0,
  }))
end

local function status_line(status)
  if type(status) == "number" then return util.status_line(status) end
  if type(status) ~= "string" then
    error("lsgi.response: status must be a number or a status line, got " .. type(status), 2)
  end
  if find(status, "^%d%d%d$") then return util.status_line(tonumber(status)) end
  return status
end

local function bodiless(line)
  local code = line:sub(1, 3)
  return code == "204" or code == "304" or code:sub(1, 1) == "1"
end

function Response:__call(environ, start_response)
  local line = status_line(self.status)
  local body = self.body
  local headers = {}
  local has_type, has_length = false, false
  for i, pair in ipairs(self.headers) do
    local key = lower(pair[1])
    if key == "content-type" then has_type = true
    elseif key == "content-length" then has_length = true end
    headers[i] = { pair[1], pair[2] }
  end
  local no_body = bodiless(line)
  if not has_type and not no_body then
    headers[#headers + 1] = { "Content-Type", DEFAULT_TYPE }
  end
  if type(body) == "string" then
    if not has_length and not no_body then
      headers[#headers + 1] = { "Content-Length", tostring(#body) }
    end
    body = { body }
  elseif body == nil then
    body = {}
  end
  start_response(line, headers)
  return body
end

function Response.text(s, status, headers)
  local r = Response.new(s, status, headers)
  if not r:get_header("Content-Type") then r:set_header("Content-Type", DEFAULT_TYPE) end
  return r
end

function Response.html(s, status, headers)
  local r = Response.new(s, status, headers)
  if not r:get_header("Content-Type") then r:set_header("Content-Type", "text/html; charset=utf-8") end
  return r
end

function Response.json(value, status, headers)
  local json = require "lsgi.json"
  local r = Response.new(json.encode(value), status, headers)
  if not r:get_header("Content-Type") then r:set_header("Content-Type", "application/json") end
  return r
end

function Response.redirect(location, status)
  if type(location) ~= "string" then
    error("lsgi.response: redirect location must be a string", 2)
  end
  if find(location, "[\r\n%z]") then
    error("lsgi.response: redirect location contains CR, LF or NUL", 2)
  end
  local r = Response.new("", status or 302)
  r:set_header("Location", location)
  return r
end

-- HTTP errors raised by abort() and by lsgi.request (413, 400, 415).
local HTTPError = {}
HTTPError.__index = HTTPError
HTTPError.__tostring = function(e)
  return "HTTP error " .. util.status_line(e.status) .. (e.message and (": " .. e.message) or "")
end
Response.HTTPError = HTTPError

function Response.abort(status, message, headers)
  if type(status) ~= "number" or status < 400 or status > 599 or status % 1 ~= 0 then
    error("lsgi.response: abort needs a status code from 400 to 599", 2)
  end
  if message ~= nil and type(message) ~= "string" then
    error("lsgi.response: abort message must be a string", 2)
  end
  error(setmetatable({ status = status, message = message, headers = normalize_headers(headers, 2) }, HTTPError), 0)
end

function Response.is_http_error(err)
  return type(err) == "table" and getmetatable(err) == HTTPError
end

return Response
