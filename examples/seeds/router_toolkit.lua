-- router_toolkit.lua: the tutorials' Router middleware (router.lua, which
-- picks an app by PATH_INFO from a table) built with lsgi.router instead.
-- Served at /router_toolkit:
--
--   GET /router_toolkit/hello         Hello
--   GET /router_toolkit/world         World!
--   GET /router_toolkit/hello/NAME    Hello, NAME   (a route parameter)
--   anything else                     404 Not Found
--   POST /router_toolkit/hello/NAME   405 Method Not Allowed, Allow: GET, HEAD
--
-- The two apps are the seed's, unchanged: plain LSGI apps. r:any registers
-- an app for every method, as the seed's dictionary does; r:get limits a
-- route to GET (and HEAD), and the router answers 405 with an Allow header
-- for the other methods. Unknown paths get a 404 instead of the seed's
-- KeyError.
local Router = require "lsgi.router"
local Request = require "lsgi.request"
local Response = require "lsgi.response"

local function world(environ, start_response)
  local output = "World!"
  start_response("200 OK", {{"Content-type", "text/plain"}})
  return {output}
end

local function hello(environ, start_response)
  local output = "Hello"
  local response_headers = {{"Content-type", "text/plain"}, {"Content-Length", tostring(#output)}}
  start_response("200 OK", response_headers)
  return {output}
end

-- A route with a parameter: the router puts it in
-- environ["lsgi.router.params"], which lsgi.request offers as req.params.
local function hello_name(environ, start_response)
  local name = Request(environ).params.name
  return Response.text("Hello, " .. name)(environ, start_response)
end

local r = Router()
r:any("/hello", hello)
r:any("/world", world)
r:get("/hello/:name", hello_name)

-- The router is itself an app.
return r
