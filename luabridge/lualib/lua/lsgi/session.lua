-- lsgi.session: server-side sessions and CSRF tokens, as Flask and Express
-- users know them. The cookie holds only a random session id and its
-- signature; the data lives in an lsgi.shared dictionary, so every Lua
-- state sees it, and with lsgi serve --shared redis://... every host does.
--
-- API
--   local session = require "lsgi.session"
--   app = session(app [, opts])          (also session.wrap(app, opts))
--     opts.cookie     cookie name (default "lsgi_session")
--     opts.dict       lsgi.shared dictionary: a name of the app's own (default
--                     "sessions") or a dictionary object
--     opts.ttl        idle lifetime in seconds (default 86400): a session
--                     unused that long is gone
--     opts.path       cookie path (default: the app's SCRIPT_NAME, or "/")
--     opts.domain     cookie domain (default: none, the host only)
--     opts.secure     Secure cookie (default: when lsgi.url_scheme is https)
--     opts.same_site  "Lax" (default), "Strict" or "None"
--     opts.max_age    cookie lifetime in seconds (default: until the browser
--                     closes; the session's idle ttl applies either way)
--   local s = session.get(environ)       the request's session
--     s.data                 a table of JSON values, loaded on first use and
--                            saved when the app calls start_response (which
--                            sends the cookie): use the session before it;
--                            a first use after it raises, a change after it
--                            is not saved
--     s:get(k), s:set(k, v)  the same, one key at a time
--     s.id                   the session id (nil until the session is saved)
--     s:regenerate()         a new id for the same data (do it at login)
--     s:destroy()            drop the data and the cookie (logout)
--   session.csrf_token(environ) -> the session's CSRF token, for forms
--   session.csrf_valid(environ, token) -> boolean
--   app = session.csrf_protect(app [, opts])   403 for a POST, PUT, PATCH or
--     DELETE without the session's token in the X-CSRF-Token header or in
--     the csrf_token field of a form. opts.field, opts.header rename them.
--     Wrap it inside the session middleware: session(session.csrf_protect(app)).
--
-- The cookie is id.signature (HMAC-SHA256 with the app's key, from the
-- host's secret), HttpOnly, SameSite=Lax. A cookie whose signature is wrong,
-- or whose session has expired, gives a new empty session. A session with
-- no data is not stored and sets no cookie.
-- Error levels below are one higher than reference Lua's would be: gopher-lua
-- v1.1.2 counts the function that calls error() twice.
local shared = require "lsgi.shared"
local crypto = require "lsgi.crypto"
local config = require "lsgi.config"
local json = require "lsgi.json"
local util = require "lsgi.util"
local type, error, setmetatable, rawget, ipairs, next, pcall =
  type, error, setmetatable, rawget, ipairs, next, pcall
local match, lower, gsub, upper, sub, find = string.match, string.lower, string.gsub, string.upper, string.sub, string.find

local M = {}

local ENV_KEY = "lsgi.session"
local CSRF_KEY = "_csrf"

-- Per state: the app's signing key, made on first use.
local cache = {}

local function signing_key()
  local key = cache.key
  if key == nil then
    key = config.secret("lsgi.session")
    cache.key = key
  end
  return key
end

local function sign(id)
  return crypto.base64url_encode(crypto.hmac_sha256(signing_key(), id))
end

-- The id a cookie value carries, or nil when its signature is wrong.
local function verify(value)
  local id, sig = match(value, "^([%w_%-]+)%.([%w_%-]+)$")
  if id and crypto.equals(sig, sign(id)) then return id end
  return nil
end

local function load(st)
  if st.loaded then return end
  if st.started then
    error("lsgi.session: the session was first used after start_response: use it before calling " ..
      "start_response, which sends its cookie", 4)
  end
  st.loaded = true
  st.data = {}
  local value = util.parse_cookies(st.environ.HTTP_COOKIE)[st.opts.cookie]
  if value == nil then return end
  st.had_cookie = true
  local id = verify(value)
  if id == nil then return end
  local text = st.opts.store(st):get(id)
  if type(text) ~= "string" then return end
  local ok, data = pcall(json.decode, text)
  if ok and type(data) == "table" then
    st.id, st.data, st.saved = id, data, text
  end
end

local Session = {}

local session_mt = {
  __index = function(self, key)
    local method = Session[key]
    if method ~= nil then return method end
    local st = rawget(self, "_st")
    if key == "data" then load(st); return st.data end
    if key == "id" then load(st); return st.id end
    return nil
  end,
  __newindex = function(self, key, value)
    if key == "data" and type(value) == "table" then
      local st = rawget(self, "_st")
      load(st)
      st.data = value
      return
    end
    error("lsgi.session: only s.data can be assigned (a table); use s:set(key, value)", 3)
  end,
}

function Session:get(key)
  return self.data[key]
end

function Session:set(key, value)
  self.data[key] = value
end

function Session:regenerate()
  local st = rawget(self, "_st")
  load(st)
  if st.id then st.opts.store(st):delete(st.id) end
  st.id = crypto.token(16)
  st.saved = nil
  st.new_id = true
end

function Session:destroy()
  local st = rawget(self, "_st")
  load(st)
  if st.id then st.opts.store(st):delete(st.id) end
  st.id, st.saved, st.new_id = nil, nil, false
  st.data = {}
end

local function cookie(st, value, max_age)
  local o = st.opts
  local secure = o.secure
  if secure == nil then secure = st.environ["lsgi.url_scheme"] == "https" end
  local path = o.path
  if path == nil then
    path = st.environ.SCRIPT_NAME
    if path == nil or path == "" then path = "/" end
  end
  return util.cookie(o.cookie, value, {
    path = path, domain = o.domain, http_only = true, secure = secure,
    same_site = o.same_site, max_age = max_age,
  })
end

-- Saves the session and returns the Set-Cookie value to send, if any.
local function finish(st)
  local store = st.opts.store(st)
  if next(st.data) == nil then
    if st.id then store:delete(st.id) end
    if st.had_cookie or st.id then return cookie(st, "", 0) end
    return nil
  end
  local text = json.encode(st.data)
  local ttl = st.opts.ttl
  if st.id == nil then
    st.id, st.new_id = crypto.token(16), true
  end
  if text ~= st.saved then
    store:set(st.id, text, ttl)
    st.saved = text
  elseif not store:expire(st.id, ttl) then
    store:set(st.id, text, ttl) -- it expired meanwhile
  end
  if st.new_id then return cookie(st, st.id .. "." .. sign(st.id), st.opts.max_age) end
  return nil
end

local function check_opts(opts)
  if opts ~= nil and type(opts) ~= "table" then error("lsgi.session: options must be a table", 4) end
  opts = opts or {}
  local o = {
    cookie = opts.cookie or "lsgi_session",
    ttl = opts.ttl or 86400,
    path = opts.path, domain = opts.domain, secure = opts.secure,
    same_site = opts.same_site or "Lax",
    max_age = opts.max_age,
  }
  if type(o.cookie) ~= "string" or not match(o.cookie, "^[%w!#$%%&'*+%-.^_`|~]+$") then
    error("lsgi.session: cookie must be a cookie name", 4)
  end
  if type(o.ttl) ~= "number" or o.ttl <= 0 then error("lsgi.session: ttl must be a positive number of seconds", 4) end
  local d = opts.dict or "sessions"
  if type(d) == "string" then
    -- Looked up per request: the module table caches it per state.
    o.store = function() return shared[d] end
  elseif type(d) == "userdata" then
    o.store = function() return d end
  else
    error("lsgi.session: dict must be a dictionary name or an lsgi.shared dictionary", 4)
  end
  return o
end

function M.wrap(app, opts)
  local o = check_opts(opts)
  return function(environ, start_response)
    local st = { environ = environ, opts = o }
    environ[ENV_KEY] = setmetatable({ _st = st }, session_mt)
    local function session_start_response(status, headers, exc_info)
      st.started = true
      if st.loaded and not st.finished and type(headers) == "table" then
        st.finished = true
        local set_cookie = finish(st)
        local copy = {}
        for i, h in ipairs(headers) do copy[i] = h end
        copy[#copy + 1] = { "Vary", "Cookie" }
        if set_cookie then copy[#copy + 1] = { "Set-Cookie", set_cookie } end
        headers = copy
      end
      return start_response(status, headers, exc_info)
    end
    return app(environ, session_start_response)
  end
end

setmetatable(M, { __call = function(_, app, opts) return M.wrap(app, opts) end })

function M.get(environ)
  local s = type(environ) == "table" and environ[ENV_KEY]
  if not s then
    error("lsgi.session: no session in this environ: wrap the app with require(\"lsgi.session\")(app)", 3)
  end
  return s
end

function M.csrf_token(environ)
  local data = M.get(environ).data
  local token = data[CSRF_KEY]
  if type(token) ~= "string" then
    token = crypto.token(32)
    data[CSRF_KEY] = token
  end
  return token
end

function M.csrf_valid(environ, token)
  if type(token) ~= "string" or token == "" then return false end
  local want = M.get(environ).data[CSRF_KEY]
  return type(want) == "string" and crypto.equals(want, token)
end

-- An lsgi.input look-alike over a body already read (SPEC §9.4).
local function replay_input(body)
  local st = { pos = 1 }
  local input = {}
  function input:read(n)
    local pos = st.pos
    if n == nil then
      st.pos = #body + 1
      return sub(body, pos)
    end
    if pos > #body then return nil end
    local s = sub(body, pos, pos + n - 1)
    st.pos = pos + #s
    return s
  end
  function input:readline(size)
    local pos = st.pos
    if pos > #body then return nil end
    local e = find(body, "\n", pos, true) or #body
    if size and e - pos + 1 > size then e = pos + size - 1 end
    st.pos = e + 1
    return sub(body, pos, e)
  end
  function input:readlines()
    local lines = {}
    for line in self:lines() do lines[#lines + 1] = line end
    return lines
  end
  function input:lines()
    return function() return input:readline() end
  end
  function input:close() end
  return input
end

local UNSAFE = { POST = true, PUT = true, PATCH = true, DELETE = true }
local FORMS = { ["application/x-www-form-urlencoded"] = true, ["multipart/form-data"] = true }

function M.csrf_protect(app, opts)
  if opts ~= nil and type(opts) ~= "table" then error("lsgi.session: csrf_protect options must be a table", 3) end
  opts = opts or {}
  local field = opts.field or "csrf_token"
  local header_key = "HTTP_" .. upper(gsub(opts.header or "X-CSRF-Token", "-", "_"))
  return function(environ, start_response)
    if not UNSAFE[environ.REQUEST_METHOD] then return app(environ, start_response) end
    local token = environ[header_key]
    local mimetype = lower(match(environ.CONTENT_TYPE or "", "^%s*([^;%s]*)"))
    if token == nil and FORMS[mimetype] then
      -- Reading the form consumes the body: hand the app a copy.
      local req = require("lsgi.request")(environ, { max_body = opts.max_body })
      local body = req.body
      token = req.form[field]
      environ["lsgi.input"] = replay_input(body)
    end
    if not M.csrf_valid(environ, token) then
      start_response("403 Forbidden", { { "Content-Type", "text/plain; charset=utf-8" } })
      return { "403 Forbidden: the CSRF token is missing or wrong; reload the form and try again\n" }
    end
    return app(environ, start_response)
  end
end

return M
