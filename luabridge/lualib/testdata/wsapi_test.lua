local check = require "check"
local fake = require "fake"
local wsapi = require "lsgi.wsapi"

local T = {}

-- A WSAPI app as a plain function: status, headers and a coroutine.wrap
-- iterator, one chunk per yield.
local function hello(wsapi_env)
  local function page()
    coroutine.yield("<p>Hello Wsapi!</p>")
    coroutine.yield("<p>PATH_INFO: " .. wsapi_env.PATH_INFO .. "</p>")
    coroutine.yield("<p>SCRIPT_NAME: " .. wsapi_env.SCRIPT_NAME .. "</p>")
  end
  return 200, { ["Content-type"] = "text/html" }, coroutine.wrap(page)
end

-- run_env runs a WSAPI app that hands its environment to inspect, and
-- returns the fake server's response.
local function run_env(inspect, opts, options)
  local app = wsapi.adapt(function(env)
    inspect(env)
    return 200, {}, function() end
  end, options)
  local res = fake.request(app, opts)
  check.eq(res.error, nil, "request error")
  return res
end

function T.test_function_app()
  local res = fake.request(wsapi.adapt(hello), { script_name = "/hello", path = "" })
  check.eq(res.status, "200 OK")
  check.eq(res:header("Content-type"), "text/html")
  check.eq(res.body, "<p>Hello Wsapi!</p><p>PATH_INFO: /</p><p>SCRIPT_NAME: /hello</p>")
  check.eq(#res.chunks, 3, "one chunk per yield")
end

function T.test_module_with_run()
  local mod = { run = hello }
  local res = fake.request(wsapi.adapt(mod), { path = "/x/y" })
  check.contains(res.body, "PATH_INFO: /x/y")
end

function T.test_module_name_is_required()
  package.preload["my.wsapi.app"] = function() return { run = hello } end
  local res = fake.request(wsapi.adapt("my.wsapi.app"))
  check.contains(res.body, "Hello Wsapi!")
  package.preload["my.wsapi.fn"] = function() return hello end
  check.contains(fake.request(wsapi.adapt("my.wsapi.fn")).body, "Hello Wsapi!")
end

function T.test_callable_table()
  local app = setmetatable({}, { __call = function(self, env) return hello(env) end })
  check.contains(fake.request(wsapi.adapt(app)).body, "Hello Wsapi!")
end

function T.test_adapt_refuses_what_is_not_an_app()
  for _, bad in ipairs({ 42, true, { handler = hello } }) do
    check.raises(function() wsapi.adapt(bad) end, "adapt needs a WSAPI app")
  end
  package.preload["my.wsapi.nothing"] = function() return 7 end
  check.raises(function() wsapi.adapt("my.wsapi.nothing") end, "module my.wsapi.nothing gave a number")
  check.raises(function() wsapi.adapt("my.wsapi.missing") end, "my.wsapi.missing")
  check.raises(function() wsapi.adapt(hello, "opts") end, "options must be a table")
  check.raises(function() wsapi.adapt(hello, { app_path = 1 }) end, "app_path must be a string")
end

function T.test_env_conventions()
  local seen = {}
  run_env(function(env)
    seen.undefined = env.HTTP_X_NOT_SENT
    seen.doc_root = env.DOCUMENT_ROOT
    seen.path_info = env.PATH_INFO
    seen.app_path = env.APP_PATH
    seen.method = env.REQUEST_METHOD
    seen.query = env.QUERY_STRING
    seen.header = env.HTTP_X_TOKEN
    seen.lsgi_version = env["lsgi.version"]
    seen.numeric = env[1]
  end, { path = "", query = "a=1", headers = { ["X-Token"] = "t" } })
  check.eq(seen.undefined, "", "an undefined variable reads as an empty string")
  check.eq(seen.doc_root, "")
  check.eq(seen.path_info, "/", "an empty PATH_INFO reads as /")
  check.eq(seen.app_path, ".")
  check.eq(seen.method, "GET")
  check.eq(seen.query, "a=1")
  check.eq(seen.header, "t")
  check.eq(type(seen.lsgi_version), "table", "lsgi keys stay")
  check.eq(seen.numeric, nil, "only names read as empty strings")
end

function T.test_env_does_not_change_environ()
  local environ = fake.environ({ path = "" })
  local env = wsapi.env(environ)
  env.PATH_INFO = "/changed"
  env.NEW = "x"
  check.eq(environ.PATH_INFO, "")
  check.eq(environ.NEW, nil)
  check.eq(getmetatable(environ), nil)
end

function T.test_app_path_option()
  local seen
  run_env(function(env) seen = env.APP_PATH end, nil, { app_path = "/srv/app" })
  check.eq(seen, "/srv/app")
end

function T.test_input_reads_content_length()
  local got = {}
  run_env(function(env)
    got.length = env.input.length
    got.all = env.input:read()
    got.after = env.input:read()
  end, { method = "POST", body = "name=value&x=1" })
  check.eq(got.length, 14)
  check.eq(got.all, "name=value&x=1")
  check.eq(got.after, nil, "nil once the body is read")
end

function T.test_input_read_n()
  local got = {}
  run_env(function(env)
    got[1] = env.input:read(4)
    got[2] = env.input:read(0)
    got[3] = env.input:read(100)
    got[4] = env.input:read(1)
  end, { method = "POST", body = "abcdefgh" })
  check.eq(got[1], "abcd")
  check.eq(got[2], nil, "read(0) gives nil, as WSAPI's input does")
  check.eq(got[3], "efgh", "fewer bytes only at the end")
  check.eq(got[4], nil)
end

function T.test_input_short_reads_are_joined()
  local environ = fake.environ({ method = "POST", body = "0123456789" })
  local inner = environ["lsgi.input"]
  local calls = 0
  environ["lsgi.input"] = {
    read = function(_, n)
      calls = calls + 1
      if n == nil then return inner:read() end
      return inner:read(math.min(n, 3)) -- a server may return fewer bytes
    end,
  }
  local env = wsapi.env(environ)
  check.eq(env.input:read(10), "0123456789")
  check.eq(calls, 4)
  check.eq(env.input:read(10), nil)
  check.raises(function() env.input:read({}) end, "input:read takes a number")
end

function T.test_input_chunked_body()
  local got
  run_env(function(env) got = env.input:read() end, { method = "POST", body = "streamed", chunked = true })
  check.eq(got, "streamed", "read() reads to the end without CONTENT_LENGTH")
end

function T.test_error_stream()
  local res = run_env(function(env)
    env.error:write("line ", 1, "\n")
    env.error:write("two\n"):flush()
  end)
  check.same(res.environ["lsgi.errors"].log, { "line ", "1", "\n", "two\n" })
end

function T.test_status_forms()
  local cases = {
    { 200, "200 OK" },
    { 404, "404 Not Found" },
    { "302", "302 Found" },
    { "418 I'm a teapot", "418 I'm a teapot" },
    { 299, "299 Unknown" },
  }
  for _, c in ipairs(cases) do
    check.eq(wsapi.status(c[1]), c[2], tostring(c[1]))
  end
  check.raises(function() wsapi.status(600) end, "not an HTTP status code")
  check.raises(function() wsapi.status(200.5) end, "not an HTTP status code")
  check.raises(function() wsapi.status(nil) end, "a nil as its status")
  check.raises(function() wsapi.status({}) end, "a table as its status")
end

function T.test_headers_map_arrays_and_numbers()
  local list = wsapi.headers({
    ["Set-Cookie"] = { "a=1", "b=2" },
    ["Content-Length"] = 12,
    ["Content-Type"] = "text/plain",
  })
  check.same(list, {
    { "Content-Length", "12" },
    { "Content-Type", "text/plain" },
    { "Set-Cookie", "a=1" },
    { "Set-Cookie", "b=2" },
  })
  check.same(wsapi.headers(nil), {})
  check.same(wsapi.headers({ { "X-Pair", "lsgi style" } }), { { "X-Pair", "lsgi style" } })
end

function T.test_headers_refuse_bad_values()
  check.raises(function() wsapi.headers("Content-Type: text/plain") end, "a string as its headers")
  check.raises(function() wsapi.headers({ ["X"] = {} , ["Y"] = function() end }) end, "header Y is a function")
  check.raises(function() wsapi.headers({ [true] = "x" }) end, "header names must be strings")
end

function T.test_hop_by_hop_headers_are_dropped_and_logged()
  local app = wsapi.adapt(function()
    return 200, { ["Connection"] = "close", ["Transfer-Encoding"] = "chunked", ["X-Kept"] = "1" }, function() end
  end)
  local res = fake.request(app)
  check.eq(res.error, nil)
  check.eq(res:header("Connection"), nil)
  check.eq(res:header("Transfer-Encoding"), nil)
  check.eq(res:header("X-Kept"), "1")
  local log = table.concat(res.environ["lsgi.errors"].log)
  check.contains(log, "dropped the hop-by-hop header Connection")
  check.contains(log, "dropped the hop-by-hop header Transfer-Encoding")
end

function T.test_body_forms()
  local function count()
    local i = 0
    return function()
      i = i + 1
      if i <= 3 then return i end -- numbers, as io.write would accept
    end
  end
  local cases = {
    { "iterator of numbers", count, "123" },
    { "coroutine.wrap", function() return coroutine.wrap(function() coroutine.yield("a"); coroutine.yield(2) end) end, "a2" },
    { "coroutine", function() return coroutine.create(function() coroutine.yield("x"); coroutine.yield("y") end) end, "xy" },
    { "array", function() return { "p", "q" } end, "pq" },
  }
  for _, c in ipairs(cases) do
    local res = fake.request(wsapi.adapt(function() return 200, {}, c[2]() end))
    check.eq(res.error, nil, c[1])
    check.eq(res.body, c[3], c[1])
  end
end

function T.test_body_with_close_is_closed_once()
  local obj, counter = fake.counting_body({ "one", "two" })
  local res = fake.request(wsapi.adapt(function() return 200, {}, obj end))
  check.eq(res.body, "onetwo")
  check.eq(counter.closes, 1)
end

function T.test_body_refuses_strings_and_nil()
  local res = fake.request(wsapi.adapt(function() return 200, {}, "text" end))
  check.contains(tostring(res.error), "a string as its body")
  res = fake.request(wsapi.adapt(function() return 200, {} end))
  check.contains(tostring(res.error), "a nil as its body")
  check.eq(res.code, 500)
end

function T.test_run_error_reaches_the_server()
  local res = fake.request(wsapi.adapt(function() error("broken app", 0) end))
  check.eq(res.code, 500)
  check.eq(res.error, "broken app")
end

function T.test_iterator_error_aborts()
  local app = wsapi.adapt(function()
    return 200, {}, coroutine.wrap(function()
      coroutine.yield("start")
      error("mid-body failure", 0)
    end)
  end)
  local res = fake.request(app)
  check.eq(res.aborted, true)
  check.eq(res.body, "start")
  check.contains(tostring(res.error), "mid-body failure")
end

-- A WSAPI middleware wraps a WSAPI app and returns status, headers, body.
function T.test_wsapi_middleware()
  local function add_token(app)
    return function(env)
      local status, headers, body = app(env)
      headers["X-Token"] = "1234"
      return status, headers, body
    end
  end
  local function upper(app)
    return function(env)
      local status, headers, body = app(env)
      return status, headers, function()
        local chunk = body()
        return chunk and chunk:upper()
      end
    end
  end
  local res = fake.request(wsapi.adapt(upper(add_token(hello))))
  check.eq(res:header("X-Token"), "1234")
  check.contains(res.body, "HELLO WSAPI!")
end

function T.test_wsapi_app_with_lsgi_middleware()
  local headers_mw = require "lsgi.middleware.headers"
  local app = headers_mw(wsapi.adapt(hello), { { "X-Frame-Options", "DENY" } })
  local res = fake.request(app)
  check.eq(res:header("X-Frame-Options"), "DENY")
  check.contains(res.body, "Hello Wsapi!")
end

return T
