local check = require "check"
local fake = require "fake"
local Router = require "lsgi.router"
local Request = require "lsgi.request"
local Response = require "lsgi.response"

local T = {}

local function echo(tag)
  return function(environ, start_response)
    local req = Request(environ)
    local parts = { tag }
    local names = {}
    for k in pairs(req.params) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. req.params[k] end
    parts[#parts + 1] = "script=" .. environ.SCRIPT_NAME
    parts[#parts + 1] = "path=" .. environ.PATH_INFO
    return Response(table.concat(parts, " "))(environ, start_response)
  end
end

local function sample()
  local r = Router.new()
  r:get("/", echo("home"))
  r:get("/users/:id", echo("show"))
  r:put("/users/:id", echo("update"))
  r:post("/users", echo("create"))
  r:get("/users/:id/posts/:post", echo("post"))
  r:get("/files/*rest", echo("files"))
  r:route({ "GET", "POST" }, "/both", echo("both"))
  r:any("/anything", echo("any"))
  return r
end

function T.test_params()
  local r = sample()
  check.eq(fake.request(r, { path = "/users/42" }).body, "show id=42 script= path=/users/42")
  check.eq(fake.request(r, { path = "/users/42/posts/7" }).body, "post id=42 post=7 script= path=/users/42/posts/7")
  check.eq(fake.request(r, { path = "/users/J%C3%B6rg" }).body, "show id=J%C3%B6rg script= path=/users/J%C3%B6rg",
    "PATH_INFO is already decoded by the host: no second decoding")
  check.eq(fake.request(r, { path = "/files/a/b.txt" }).body, "files rest=a/b.txt script= path=/files/a/b.txt")
  check.eq(fake.request(r, { path = "/files/" }).body, "files rest= script= path=/files/")
  check.eq(fake.request(r, { path = "/" }).body, "home script= path=/")
  check.eq(fake.request(r, { path = "" , script_name = "/app" }).body, "home script=/app path=", "an empty PATH_INFO is /")
  check.eq(fake.request(r, { method = "PATCH", path = "/anything" }).body, "any script= path=/anything")
  check.eq(fake.request(r, { method = "POST", path = "/both" }).body, "both script= path=/both")
end

function T.test_not_found()
  local r = sample()
  for _, p in ipairs({ "/nope", "/users/", "/users/1/", "/users/1/posts", "/files", "/USERS/1" }) do
    local res = fake.request(r, { path = p })
    check.eq(res.status, "404 Not Found", p)
    check.eq(res.body, "Not Found\n", p)
  end
  local custom = Router.new { not_found = Response("custom 404", 404) }
  check.eq(fake.request(custom, { path = "/x" }).body, "custom 404")
end

function T.test_method_not_allowed_with_allow()
  local r = sample()
  local res = fake.request(r, { method = "DELETE", path = "/users/1" })
  check.eq(res.status, "405 Method Not Allowed")
  check.eq(res:header("allow"), "GET, HEAD, PUT")
  local res2 = fake.request(r, { method = "GET", path = "/users" })
  check.eq(res2.status, "405 Method Not Allowed")
  check.eq(res2:header("allow"), "POST")
  local custom = Router.new { method_not_allowed = Response("nope", 405) }
  custom:post("/x", echo("x"))
  local res3 = fake.request(custom, { path = "/x" })
  check.eq(res3.body, "nope")
  check.eq(res3:header("allow"), "POST", "the Allow header is added for a custom 405 app")
end

function T.test_head_uses_get_routes()
  local r = sample()
  local res = fake.request(r, { method = "HEAD", path = "/users/5" })
  check.eq(res.status, "200 OK")
  check.eq(res.body, "")
  local r2 = Router()
  r2:get("/x", echo("get"))
  r2:head("/x", echo("head"))
  local seen
  local r3 = Router()
  r3:get("/x", function(environ, sr) seen = environ.REQUEST_METHOD; return Response("g")(environ, sr) end)
  fake.request(r3, { method = "HEAD", path = "/x" })
  check.eq(seen, "HEAD", "the GET route sees the real method")
end

function T.test_mount_shifts_script_name_and_path_info()
  local api = Router()
  api:get("/items/:id", echo("item"))
  api:get("/", echo("api-root"))
  local r = Router()
  r:mount("/api/v1", api)
  r:get("/api/v2", echo("v2"))
  local env = fake.environ { script_name = "/site", path = "/api/v1/items/9" }
  local res = fake.request(r, env)
  check.eq(res.body, "item id=9 script=/site/api/v1 path=/items/9")
  check.eq(env.SCRIPT_NAME, "/site", "the caller's environ is not changed")
  check.eq(env.PATH_INFO, "/api/v1/items/9")
  check.eq(fake.request(r, { path = "/api/v1/" }).body, "api-root script=/api/v1 path=/")
  check.eq(fake.request(r, { path = "/api/v1" }).body, "api-root script=/api/v1 path=", "mount root without a slash")
  check.eq(fake.request(r, { path = "/api/v1//items/3" }).body, "item id=3 script=/api/v1 path=/items/3",
    "empty segments are dropped as wsgiref.util.shift_path_info does")
  check.eq(fake.request(r, { path = "/api/v1x" }).status, "404 Not Found", "mounts match on segment boundaries")
  check.eq(fake.request(r, { path = "/api/v2" }).body, "v2 script= path=/api/v2")
end

function T.test_mount_plain_app_and_seed_router()
  -- The seed's Router middleware: pick an app by PATH_INFO.
  local function world(environ, start_response)
    start_response("200 OK", { { "Content-type", "text/plain" } })
    return { "World!" }
  end
  local function hello(environ, start_response)
    local output = "Hello"
    start_response("200 OK", { { "Content-type", "text/plain" }, { "Content-Length", tostring(#output) } })
    return { output }
  end
  local r = Router()
  r:any("/world", world)
  r:any("/hello", hello)
  check.eq(fake.request(r, { path = "/world" }).body, "World!")
  check.eq(fake.request(r, { path = "/hello" }).body, "Hello")
  local outer = Router()
  outer:mount("/inner", r)
  check.eq(fake.request(outer, { path = "/inner/hello" }).body, "Hello")
end

function T.test_bad_definitions()
  local r = Router()
  check.raises(function() r:get("users", echo("x")) end, "starting with /")
  check.raises(function() r:get("/a/*rest/b", echo("x")) end, "last segment")
  check.raises(function() r:get("/a/:1x", echo("x")) end, "bad parameter name")
  check.raises(function() r:get("/a/:id/:id", echo("x")) end, "appears twice")
  check.raises(function() r:get("/a", "not an app") end, "must be callable")
  check.raises(function() r:route({}, "/a", echo("x")) end, "methods must be")
  check.raises(function() r:route("GE T", "/a", echo("x")) end, "bad method name")
  check.raises(function() r:mount("/", echo("x")) end, "must not be /")
  check.raises(function() r:mount("/a/../b", echo("x")) end, "segments")
  -- The error points at the caller's line, not inside the router.
  local err = check.raises(function() r:get("users", echo("x")) end)
  check.contains(tostring(err), "router_test.lua")
end

return T
