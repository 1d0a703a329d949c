-- router.lua: the tutorials' Router middleware, which picks an app by
-- PATH_INFO. Served at /router: /router/hello and /router/world.
--
--   class Router():
--       def __init__(self):
--           self.path_info = {}
--       def route(self, environ, start_response):
--           application = self.path_info[environ['PATH_INFO']]
--           return application(environ, start_response)
--       def __call__(self, path):
--           def wrapper(application):
--               self.path_info[path] = application
--           return wrapper
--
--   router = Router()
--
--   @router('/hello')
--   def hello(environ, start_response): ...
--
-- A decorator is a function applied to a function, so @router('/hello')
-- becomes router("/hello")(function ... end). Where Python raises KeyError
-- for an unknown path (a 500), this router answers 404 with its own reason
-- phrase.

local Router = {}
Router.__index = Router

function Router.new()
  return setmetatable({path_info = {}}, Router)
end

function Router:route(environ, start_response)
  local application = self.path_info[environ.PATH_INFO]
  if not application then
    start_response("404 No Such Route", {{"Content-type", "text/plain"}})
    return {"no route for " .. environ.PATH_INFO .. "\n"}
  end
  return application(environ, start_response)
end

-- router(path) returns the "decorator" that registers an app at path.
function Router:__call(path)
  return function(application)
    self.path_info[path] = application
    return application
  end
end

local router = Router.new()

router("/world")(function(environ, start_response)
  local output = "World!"
  start_response("200 OK", {{"Content-type", "text/plain"}})
  return {output}
end)

router("/hello")(function(environ, start_response)
  local output = "Hello"
  local response_headers = {{"Content-type", "text/plain"}, {"Content-Length", tostring(#output)}}
  start_response("200 OK", response_headers)
  return {output}
end)

-- The app the server calls is router.route bound to router.
return function(environ, start_response)
  return router:route(environ, start_response)
end
