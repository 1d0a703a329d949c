-- fake: a small in-process LSGI server for the Lua tests. It builds an
-- environ like the host's, calls app(environ, start_response), delays the
-- headers until the first non-empty chunk, honours exc_info, iterates every
-- kind of body, drops the body of HEAD responses and calls close() exactly
-- once, then returns what a client would have seen.
--
--   fake.environ(opts) -> environ
--     opts: method, path, script_name, query, headers (name -> value),
--           body, content_type, chunked (no CONTENT_LENGTH), remote_addr,
--           host (false for none), scheme
--   fake.input(data) -> an lsgi.input look-alike over the string data
--   fake.request(app, opts_or_environ [, server]) -> res
--     server.stop_after  stop after that many non-empty chunks, as a client
--                        that disconnects would make the server do
--     res.status       "200 OK" (or "500 Internal Server Error" when the app
--                      failed before the headers went out)
--     res.headers      array of {name, value}
--     res:header(name) first value of a header (case-insensitive)
--     res.body         the body as sent
--     res.chunks       the non-empty chunks as sent
--     res.error        the error value, when the app failed
--     res.aborted      true when the app failed after the headers went out
--     res.closes       how many times the server called close (0 or 1)
--     res.steps        how many times the body was asked for a chunk
local M = {}

function M.input(data)
  data = data or ""
  local pos = 1
  local input = {}
  function input:read(n)
    if n == nil then
      local rest = data:sub(pos)
      pos = #data + 1
      return rest
    end
    if pos > #data then return nil end
    if n == 0 then return "" end
    local s = data:sub(pos, pos + n - 1)
    pos = pos + #s
    return s
  end
  function input:readline(n)
    if pos > #data then return nil end
    local e = data:find("\n", pos, true) or #data
    if n and e - pos + 1 > n then e = pos + n - 1 end
    local s = data:sub(pos, e)
    pos = e + 1
    return s
  end
  function input:readlines()
    local t = {}
    for line in self:lines() do t[#t + 1] = line end
    return t
  end
  function input:lines()
    return function() return self:readline() end
  end
  return input
end

local function errors_stream()
  local log = {}
  local s = { log = log }
  function s:write(msg) log[#log + 1] = msg end
  function s:writelines(t) for _, m in ipairs(t) do log[#log + 1] = m end end
  function s:flush() end
  return s
end

function M.environ(opts)
  opts = opts or {}
  local body = opts.body
  local env = {
    REQUEST_METHOD = opts.method or "GET",
    SCRIPT_NAME = opts.script_name or "",
    PATH_INFO = opts.path or "/",
    QUERY_STRING = opts.query or "",
    SERVER_NAME = "localhost",
    SERVER_PORT = "8000",
    SERVER_PROTOCOL = "HTTP/1.1",
    REMOTE_ADDR = opts.remote_addr or "127.0.0.1",
    REMOTE_PORT = "50000",
    REQUEST_URI = (opts.script_name or "") .. (opts.path or "/") .. ((opts.query and opts.query ~= "") and ("?" .. opts.query) or ""),
    ["lsgi.version"] = { 1, 0 },
    ["lsgi.url_scheme"] = opts.scheme or "http",
    ["lsgi.input"] = M.input(body),
    ["lsgi.errors"] = errors_stream(),
    ["lsgi.multithread"] = false,
    ["lsgi.multiprocess"] = true,
    ["lsgi.run_once"] = false,
    ["lsgi.input_terminated"] = true,
  }
  if opts.host ~= false then env.HTTP_HOST = opts.host or "localhost:8000" end
  if body ~= nil and not opts.chunked then env.CONTENT_LENGTH = tostring(#body) end
  if opts.content_type then env.CONTENT_TYPE = opts.content_type end
  for name, value in pairs(opts.headers or {}) do
    local key = name:upper():gsub("-", "_")
    if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH" then
      env[key] = value
    else
      env["HTTP_" .. key] = value
    end
  end
  return env
end

local function kind_next(result)
  local t = type(result)
  local mt = getmetatable(result)
  if t == "function" or ((t == "table" or t == "userdata") and type(mt) == "table" and mt.__call) then
    return function() return result() end
  elseif t == "thread" then
    return function()
      if coroutine.status(result) == "dead" then return nil end
      local ok, v = coroutine.resume(result)
      if not ok then error(v, 0) end
      if coroutine.status(result) == "dead" then return nil end
      return v or ""
    end
  elseif t == "table" then
    local i = 0
    return function() i = i + 1; return rawget(result, i) end
  end
  error("fake: the app returned a " .. t .. ", not a body", 0)
end

function M.request(app, opts, server)
  server = server or {}
  local environ = opts
  if opts == nil or opts["lsgi.version"] == nil then environ = M.environ(opts) end
  local res = { headers = {}, chunks = {}, closes = 0, steps = 0, environ = environ }
  function res:header(name)
    name = name:lower()
    for _, h in ipairs(self.headers) do
      if h[1]:lower() == name then return h[2] end
    end
    return nil
  end
  function res:header_all(name)
    local out = {}
    name = name:lower()
    for _, h in ipairs(self.headers) do
      if h[1]:lower() == name then out[#out + 1] = h[2] end
    end
    return out
  end

  -- State shared by the closures below.
  local st = { stored = nil, started = false, sent = false }
  local function send_headers()
    if not st.sent then
      st.sent = true
      res.status = st.stored[1]
      for i, h in ipairs(st.stored[2]) do res.headers[i] = { h[1], h[2] } end
    end
  end
  local function emit(data)
    if data ~= "" then
      send_headers()
      if environ.REQUEST_METHOD ~= "HEAD" then res.chunks[#res.chunks + 1] = data end
    end
  end
  local function write(data)
    if not st.started then error("write() before start_response()", 2) end
    if type(data) ~= "string" then error("write() needs a string", 2) end
    send_headers()
    emit(data)
  end
  local function start_response(status, headers, exc_info)
    if exc_info then
      if st.sent then error(exc_info, 0) end
    elseif st.started then
      error("start_response called twice without exc_info", 2)
    end
    st.started = true
    if type(status) ~= "string" or not status:find("^%d%d%d ") then
      error("bad status " .. tostring(status), 2)
    end
    if type(headers) ~= "table" then error("headers must be a table", 2) end
    for i, h in ipairs(headers) do
      if type(h) ~= "table" or type(h[1]) ~= "string" or type(h[2]) ~= "string" then
        error("bad header " .. i, 2)
      end
      if h[2]:find("[\r\n%z]") then error("bad header value " .. h[1], 2) end
    end
    st.stored = { status, headers }
    return write
  end

  local ok, err = pcall(function()
    st.result = app(environ, start_response)
    local next_chunk = kind_next(st.result)
    while true do
      res.steps = res.steps + 1
      local chunk = next_chunk()
      if chunk == nil then break end
      if type(chunk) ~= "string" then error("fake: chunk is a " .. type(chunk), 0) end
      if chunk ~= "" and not st.started then error("fake: chunk before start_response", 0) end
      emit(chunk)
      if server.stop_after and #res.chunks >= server.stop_after then
        res.disconnected = true
        return
      end
    end
    if not st.started then error("fake: the body ended without start_response", 0) end
    send_headers()
  end)
  local result = st.result
  if result ~= nil and (type(result) == "table" or type(result) == "userdata") then
    local c = result.close
    if c then
      res.closes = res.closes + 1
      local cok, cerr = pcall(c, result)
      if not cok then res.close_error = cerr end
    end
  end
  if not ok then
    res.error = err
    if st.sent then
      res.aborted = true
    else
      res.status = "500 Internal Server Error"
      res.headers = { { "Content-Type", "text/plain" } }
      res.chunks = { "fake: internal server error\n" }
    end
  end
  res.body = table.concat(res.chunks)
  res.code = tonumber(res.status and res.status:sub(1, 3))
  return res
end

-- counting_body returns a body (a callable object with close) that yields
-- the given chunks, and a counter table {calls=, closes=}.
function M.counting_body(chunks, fail_at)
  local counter = { calls = 0, closes = 0 }
  local i = 0
  local obj = {}
  function obj.close() counter.closes = counter.closes + 1 end
  setmetatable(obj, {
    __call = function()
      counter.calls = counter.calls + 1
      i = i + 1
      if fail_at and i == fail_at then error("boom in the body", 0) end
      return chunks[i]
    end,
  })
  return obj, counter
end

return M
