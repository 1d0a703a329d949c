-- simple_app.lua: PEP 3333's simple_app, the first app of every WSGI
-- tutorial, translated line by line. Served at /simple_app.
--
--   def simple_app(environ, start_response):
--       status = '200 OK'
--       response_headers = [('Content-type', 'text/plain')]
--       start_response(status, response_headers)
--       return ['Hello world!\n']
--
-- A Python list of strings becomes a Lua table of strings, a tuple of two
-- strings a table of two strings. A body of one string gets a
-- Content-Length from the host.

local function simple_app(environ, start_response)
  local status = "200 OK"
  local response_headers = {{"Content-type", "text/plain"}}
  start_response(status, response_headers)
  return {"Hello world!\n"}
end

return simple_app
