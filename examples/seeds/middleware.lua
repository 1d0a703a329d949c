-- middleware.lua: the tutorials' header-adding middleware, which wraps an
-- app and adds a header to its response. Served at /middleware.
--
--   def myapp(environ, start_response):
--       response_headers = [('content-type', 'text/plain')]
--       start_response('200 OK', response_headers)
--       return ['Check the headers!']
--
--   class Middleware:
--       def __init__(self, app):
--           self.wrapped_app = app
--       def __call__(self, environ, start_response):
--           def custom_start_response(status, headers, exc_info=None):
--               headers.append(('X-A-SIMPLE-TOKEN', "1234567890"))
--               return start_response(status, headers, exc_info)
--           return self.wrapped_app(environ, custom_start_response)
--
--   app = Middleware(myapp)
--
-- The middleware passes on start_response's return value (write) and the
-- wrapped app's result untouched, so streaming, write() and close() keep
-- working through it.

local function myapp(environ, start_response)
  local response_headers = {{"content-type", "text/plain"}}
  start_response("200 OK", response_headers)
  return {"Check the headers!"}
end

local Middleware = {}
Middleware.__index = Middleware

function Middleware.new(app)
  return setmetatable({wrapped_app = app}, Middleware)
end

function Middleware.__call(self, environ, start_response)
  local function custom_start_response(status, headers, exc_info)
    headers[#headers + 1] = {"X-A-SIMPLE-TOKEN", "1234567890"}
    return start_response(status, headers, exc_info)
  end
  return self.wrapped_app(environ, custom_start_response)
end

return Middleware.new(myapp)
