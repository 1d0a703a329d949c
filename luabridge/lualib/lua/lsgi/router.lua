-- lsgi.router: routes requests to LSGI apps by method and path pattern.
-- A router is itself an LSGI app (a callable table).
--
-- API
--   Router.new([opts]) -> router   (also Router(opts))
--       opts.not_found           app answering when nothing matches (404)
--       opts.method_not_allowed  app answering when the path matches but the
--                                method does not (405); the Allow header is
--                                set before it is called
--   router:route(methods, pattern, app)   methods: "GET", {"GET", "POST"}
--                                          or "*" for any method
--   router:get / post / put / patch / delete / options / head (pattern, app)
--   router:any(pattern, app)
--   router:mount(prefix, app)    hands every path under prefix to app, with
--                                the prefix moved from PATH_INFO to
--                                SCRIPT_NAME (wsgiref.util.shift_path_info),
--                                in a copy of environ
--   router(environ, start_response) -> body
--
-- Patterns are matched against PATH_INFO ("" counts as "/"), segment by
-- segment, in the order routes and mounts were added; the first match wins.
--   /users/:id      ":name" matches one non-empty segment
--   /files/*rest    "*name", last only, matches the rest of the path
--                   ("" for "/files/", "a/b" for "/files/a/b")
-- Literal segments match exactly (PATH_INFO is already percent-decoded);
-- "/users" and "/users/" are different paths.
--
-- The matched parameters are put in environ["lsgi.router.params"] (a table
-- name -> string; lsgi.request offers them as req.params). HEAD requests
-- are routed to GET routes when no HEAD route matches. When a path matches
-- but no route accepts the method, the answer is 405 with an Allow header.
local util = require "lsgi.util"
local type, setmetatable, error, pairs, ipairs, tostring = type, setmetatable, error, pairs, ipairs, tostring
local find, sub, upper, concat, sort = string.find, string.sub, string.upper, table.concat, table.sort

local Router = {}
Router.__index = Router

local PARAMS_KEY = "lsgi.router.params"
Router.PARAMS_KEY = PARAMS_KEY

local function split(path)
  local segs, i = {}, 2
  if path == "" then path = "/" end
  while true do
    local j = find(path, "/", i, true)
    if not j then
      segs[#segs + 1] = sub(path, i)
      return segs
    end
    segs[#segs + 1] = sub(path, i, j - 1)
    i = j + 1
  end
end

local function check_app(app, level)
  local t = type(app)
  if t == "function" then return end
  if t == "table" or t == "userdata" then
    local mt = getmetatable(app)
    if type(mt) == "table" and mt.__call then return end
  end
  error("lsgi.router: app must be callable (a function or a table with __call), got " .. t, level + 1)
end

local function compile(pattern, level)
  if type(pattern) ~= "string" or sub(pattern, 1, 1) ~= "/" then
    error("lsgi.router: pattern must be a string starting with /", level + 1)
  end
  local segs = split(pattern)
  local compiled, seen = {}, {}
  for i, seg in ipairs(segs) do
    local first = sub(seg, 1, 1)
    if first == ":" or first == "*" then
      local name = sub(seg, 2)
      if not find(name, "^[%a_][%w_]*$") then
        error("lsgi.router: bad parameter name in " .. pattern, level + 1)
      end
      if seen[name] then error("lsgi.router: parameter " .. name .. " appears twice in " .. pattern, level + 1) end
      seen[name] = true
      if first == "*" and i ~= #segs then
        error("lsgi.router: *" .. name .. " must be the last segment of " .. pattern, level + 1)
      end
      compiled[i] = { kind = first, name = name }
    else
      compiled[i] = { kind = "", text = seg }
    end
  end
  return compiled
end

-- match returns the parameters when segs matches the compiled pattern.
local function match(compiled, segs)
  local params = {}
  local n = #compiled
  for i = 1, n do
    local c, s = compiled[i], segs[i]
    if c.kind == "*" then
      if s == nil then return nil end
      params[c.name] = concat(segs, "/", i)
      return params
    end
    if s == nil then return nil end
    if c.kind == ":" then
      if s == "" then return nil end
      params[c.name] = s
    elseif c.text ~= s then
      return nil
    end
  end
  if segs[n + 1] ~= nil then return nil end
  return params
end

local function method_set(methods, level)
  if methods == "*" then return "*" end
  if type(methods) == "string" then methods = { methods } end
  if type(methods) ~= "table" or methods[1] == nil then
    error("lsgi.router: methods must be a method name, an array of names, or \"*\"", level + 1)
  end
  local set = {}
  for _, m in ipairs(methods) do
    if type(m) ~= "string" or not find(m, "^[%w!#%$%%&'%*%+%-%.%^_`|~]+$") then
      error("lsgi.router: bad method name " .. tostring(m), level + 1)
    end
    set[upper(m)] = true
  end
  return set
end

function Router.new(opts)
  opts = opts or {}
  if opts.not_found ~= nil then check_app(opts.not_found, 2) end
  if opts.method_not_allowed ~= nil then check_app(opts.method_not_allowed, 2) end
  return setmetatable({
    entries = {},
    not_found = opts.not_found,
    method_not_allowed = opts.method_not_allowed,
  }, Router)
end

setmetatable(Router, { __call = function(_, ...) return Router.new(...) end })

-- add adds a route; level is the level of the user's call counted from
-- add's own caller, which every public method below is (not through a
-- tail call, which would leave no position to report).
local function add(self, methods, pattern, app, level)
  local set = method_set(methods, level + 1)
  local compiled = compile(pattern, level + 1)
  check_app(app, level + 1)
  self.entries[#self.entries + 1] = { methods = set, pattern = pattern, compiled = compiled, app = app }
end

function Router:route(methods, pattern, app)
  add(self, methods, pattern, app, 2)
  return self
end

for _, m in ipairs({ "get", "post", "put", "patch", "delete", "options", "head" }) do
  local method = upper(m)
  Router[m] = function(self, pattern, app)
    add(self, method, pattern, app, 2)
    return self
  end
end

function Router:any(pattern, app)
  add(self, "*", pattern, app, 2)
  return self
end

function Router:mount(prefix, app)
  if type(prefix) ~= "string" or sub(prefix, 1, 1) ~= "/" then
    error("lsgi.router: mount prefix must be a string starting with /", 2)
  end
  if sub(prefix, -1) == "/" then prefix = sub(prefix, 1, -2) end
  if prefix == "" then error("lsgi.router: mount prefix must not be /", 2) end
  local names = split(prefix)
  for _, n in ipairs(names) do
    if n == "" or n == "." or n == ".." then
      error("lsgi.router: mount prefix must not have empty, . or .. segments", 2)
    end
  end
  check_app(app, 2)
  self.entries[#self.entries + 1] = { mount = prefix, names = names, app = app }
  return self
end

local function plain(status, text, extra)
  return function(_, start_response)
    local headers = { { "Content-Type", "text/plain; charset=utf-8" }, { "Content-Length", tostring(#text) } }
    for _, h in ipairs(extra or {}) do headers[#headers + 1] = h end
    start_response(status, headers)
    return { text }
  end
end

local not_found = plain("404 Not Found", "Not Found\n")

-- try_mount shifts the prefix into SCRIPT_NAME of a copy of environ; it
-- returns the copy when path is under the prefix.
local function try_mount(entry, environ, path)
  local prefix = entry.mount
  if not (path == prefix or sub(path, 1, #prefix + 1) == prefix .. "/") then return nil end
  local copy = {}
  for k, v in pairs(environ) do copy[k] = v end
  for _, name in ipairs(entry.names) do
    if util.shift_path_info(copy) ~= name then return nil end
  end
  return copy
end

function Router:__call(environ, start_response)
  local path = environ.PATH_INFO or ""
  local method = environ.REQUEST_METHOD
  local segs = split(path)
  local allowed, any_path = nil, false
  local head_fallback = nil
  for _, e in ipairs(self.entries) do
    if e.mount then
      local sub_environ = try_mount(e, environ, path)
      if sub_environ then return e.app(sub_environ, start_response) end
    else
      local params = match(e.compiled, segs)
      if params then
        any_path = true
        local set = e.methods
        if set == "*" or set[method] then
          environ[PARAMS_KEY] = params
          return e.app(environ, start_response)
        end
        if method == "HEAD" and set.GET and not head_fallback then
          head_fallback = { app = e.app, params = params }
        end
        allowed = allowed or {}
        for m in pairs(set) do allowed[m] = true end
      end
    end
  end
  if head_fallback then
    environ[PARAMS_KEY] = head_fallback.params
    return head_fallback.app(environ, start_response)
  end
  if any_path then
    if allowed.GET then allowed.HEAD = true end
    local list = {}
    for m in pairs(allowed) do list[#list + 1] = m end
    sort(list)
    local allow = concat(list, ", ")
    if self.method_not_allowed then
      return self.method_not_allowed(environ, function(status, headers, exc_info)
        local h = {}
        for i, pair in ipairs(headers) do h[i] = pair end
        h[#h + 1] = { "Allow", allow }
        return start_response(status, h, exc_info)
      end)
    end
    return plain("405 Method Not Allowed", "Method Not Allowed\n", { { "Allow", allow } })(environ, start_response)
  end
  if self.not_found then return self.not_found(environ, start_response) end
  return not_found(environ, start_response)
end

return Router
