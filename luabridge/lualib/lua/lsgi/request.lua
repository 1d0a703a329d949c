-- lsgi.request: a Request object over an LSGI environ, in the manner of
-- Werkzeug's. Everything that costs something (query parsing, headers,
-- cookies, the body, forms, JSON) is computed on first use and kept.
--
-- API
--   Request.new(environ [, opts]) -> req   (also Request(environ, opts))
--       opts.max_body   largest body read, in bytes (default 1 MiB); a
--                       larger body raises HTTP error 413
--   req.environ                  the environ table
--   req.method                   REQUEST_METHOD ("GET")
--   req.script_name, req.path_info, req.query_string
--   req.path                     SCRIPT_NAME .. PATH_INFO (decoded)
--   req.scheme                   "http" or "https"
--   req.host                     HTTP_HOST, else SERVER_NAME[:SERVER_PORT]
--   req.remote_addr              REMOTE_ADDR
--   req.url                      the full URL (wsgiref.util.request_uri)
--   req.base_url                 the app's root URL (application_uri)
--   req.args                     query args: name -> first value
--   req.args_all                 query args: name -> array of every value
--   req.headers                  name -> value, names case-insensitive
--                                ("content-type", "Content-Type", "CONTENT_TYPE")
--   req:header(name) -> value or nil (same lookup, without building a table)
--   req.cookies                  name -> value
--   req.content_type             CONTENT_TYPE or nil
--   req.mimetype                 the content type without parameters, lower case
--   req.content_length           a number or nil
--   req.body                     the request body as a string (bounded)
--   req.form, req.form_all       urlencoded or multipart form fields
--   req.files, req.files_all     multipart files: name -> {filename,
--                                content_type, size, data, headers}
--   req.json                     the body decoded as JSON (json.null for
--                                nulls); HTTP error 415 if the body is not
--                                JSON, 400 if it is malformed
--   req.params                   route parameters set by lsgi.router
--
-- Errors the client caused (a body too large, a malformed form or JSON) are
-- raised as HTTP errors (lsgi.response.abort): lsgi.middleware.errors turns
-- them into 413, 400 or 415 responses.
local util = require "lsgi.util"
local Response = require "lsgi.response"
local native = require "lsgi._native"
local type, setmetatable, rawset, rawget, pairs, tonumber, error =
  type, setmetatable, rawset, rawget, pairs, tonumber, error
local lower, upper, gsub, find, sub, match, concat, min =
  string.lower, string.upper, string.gsub, string.find, string.sub, string.match, table.concat, math.min

local Request = {}
local props = {}

local DEFAULT_MAX_BODY = 1024 * 1024
local READ_SIZE = 64 * 1024

Request.__index = function(self, key)
  local method = Request[key]
  if method ~= nil then return method end
  local compute = props[key]
  if compute ~= nil then
    local value = compute(self)
    rawset(self, key, value)
    return value
  end
  return nil
end

function Request.new(environ, opts)
  if type(environ) ~= "table" then
    error("lsgi.request: environ table expected, got " .. type(environ), 2)
  end
  local max_body = DEFAULT_MAX_BODY
  if opts ~= nil then
    if type(opts) ~= "table" then error("lsgi.request: options must be a table", 2) end
    if opts.max_body ~= nil then
      if type(opts.max_body) ~= "number" or opts.max_body < 0 then
        error("lsgi.request: max_body must be a non-negative number", 2)
      end
      max_body = opts.max_body
    end
  end
  local script_name, path_info = environ.SCRIPT_NAME or "", environ.PATH_INFO or ""
  return setmetatable({
    environ = environ,
    method = environ.REQUEST_METHOD,
    script_name = script_name,
    path_info = path_info,
    path = script_name .. path_info,
    query_string = environ.QUERY_STRING or "",
    remote_addr = environ.REMOTE_ADDR,
    max_body = max_body,
  }, Request)
end

setmetatable(Request, { __call = function(_, ...) return Request.new(...) end })

-- environ key for a header name: "Content-Type" -> "CONTENT_TYPE",
-- "X-Token" -> "HTTP_X_TOKEN".
local function environ_key(name)
  local key = upper(gsub(name, "-", "_"))
  if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH" then return key end
  return "HTTP_" .. key
end

function Request:header(name)
  if type(name) ~= "string" then error("lsgi.request: header name must be a string", 2) end
  return self.environ[environ_key(name)]
end

local headers_mt = {
  __index = function(t, name)
    if type(name) ~= "string" then return nil end
    return rawget(t, lower(gsub(name, "_", "-")))
  end,
}

function props.headers(self)
  local h = setmetatable({}, headers_mt)
  for key, value in pairs(self.environ) do
    if type(key) == "string" and type(value) == "string" then
      if sub(key, 1, 5) == "HTTP_" then
        rawset(h, lower(gsub(sub(key, 6), "_", "-")), value)
      elseif key == "CONTENT_TYPE" or key == "CONTENT_LENGTH" then
        rawset(h, lower(gsub(key, "_", "-")), value)
      end
    end
  end
  return h
end

function props.scheme(self)
  return util.guess_scheme(self.environ)
end

function props.host(self)
  local e = self.environ
  if e.HTTP_HOST and e.HTTP_HOST ~= "" then return e.HTTP_HOST end
  local name, port = e.SERVER_NAME or "", e.SERVER_PORT
  local scheme = util.guess_scheme(e)
  if port and port ~= "" and not ((scheme == "https" and port == "443") or (scheme ~= "https" and port == "80")) then
    return name .. ":" .. port
  end
  return name
end

function props.url(self) return util.request_uri(self.environ) end
function props.base_url(self) return util.application_uri(self.environ) end

local function parse_args(self)
  local first, all = util.parse_qs(self.query_string)
  rawset(self, "args", first)
  rawset(self, "args_all", all)
end
function props.args(self) parse_args(self); return self.args end
function props.args_all(self) parse_args(self); return self.args_all end

function props.cookies(self)
  return util.parse_cookies(self.environ.HTTP_COOKIE or "")
end

function props.content_type(self) return self.environ.CONTENT_TYPE end

function props.mimetype(self)
  local ct = self.environ.CONTENT_TYPE
  if not ct then return nil end
  return lower(match(ct, "^%s*([^;%s]*)") or "")
end

function props.content_length(self)
  local cl = self.environ.CONTENT_LENGTH
  if cl == nil or cl == "" then return nil end
  if not find(cl, "^%d+$") then Response.abort(400, "invalid Content-Length") end
  return tonumber(cl)
end

function props.params(self)
  return self.environ["lsgi.router.params"] or {}
end

-- Reads the whole body, never more than max_body bytes.
function props.body(self)
  local input = self.environ["lsgi.input"]
  local max = self.max_body
  local length = self.content_length
  if input == nil then return "" end
  local parts, n = {}, 0
  if length ~= nil then
    if length > max then
      Response.abort(413, "request body larger than " .. max .. " bytes")
    end
    while n < length do
      local chunk = input:read(min(READ_SIZE, length - n))
      if chunk == nil or chunk == "" then
        Response.abort(400, "request body shorter than its Content-Length")
      end
      parts[#parts + 1] = chunk
      n = n + #chunk
    end
    return concat(parts)
  end
  if not self.environ["lsgi.input_terminated"] then
    return "" -- no Content-Length and no end-of-body guarantee: no body (PEP 3333)
  end
  while true do
    local chunk = input:read(min(READ_SIZE, max - n + 1))
    if chunk == nil or chunk == "" then break end
    parts[#parts + 1] = chunk
    n = n + #chunk
    if n > max then
      Response.abort(413, "request body larger than " .. max .. " bytes")
    end
  end
  return concat(parts)
end

local function parse_form(self)
  local mt = self.mimetype
  local form, form_all, files, files_all
  if mt == "application/x-www-form-urlencoded" then
    form, form_all = util.parse_qs(self.body)
    files, files_all = {}, {}
  elseif mt == "multipart/form-data" then
    form, form_all, files, files_all = native.parse_multipart(self.body, self.content_type)
    if form == nil then
      Response.abort(400, form_all) -- form_all holds the parser's message
    end
  else
    form, form_all, files, files_all = {}, {}, {}, {}
  end
  rawset(self, "form", form)
  rawset(self, "form_all", form_all)
  rawset(self, "files", files)
  rawset(self, "files_all", files_all)
end
function props.form(self) parse_form(self); return self.form end
function props.form_all(self) parse_form(self); return self.form_all end
function props.files(self) parse_form(self); return self.files end
function props.files_all(self) parse_form(self); return self.files_all end

function props.json(self)
  local mt = self.mimetype
  if not (mt == "application/json" or (mt and find(mt, "%+json$"))) then
    Response.abort(415, "expected a JSON body (Content-Type: application/json)")
  end
  local json = require "lsgi.json"
  local body = self.body
  local ok, value = pcall(json.decode, body)
  if not ok then
    Response.abort(400, "malformed JSON body")
  end
  return value
end

return Request
