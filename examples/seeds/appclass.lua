-- appclass.lua: the tutorials' AppClass, an app that is an instance with
-- __call__. Served at /appclass.
--
--   class AppClass(object):
--       status = '200 OK'
--       response_headers = [('Content-type', 'text/plain')]
--
--       def __call__(self, environ, start_response):
--           start_response(self.status, self.response_headers)
--           return ['Hello AppClass.__call__\n']
--
--   application = AppClass()
--
-- In Lua the class is a table used as the instance's metatable, and
-- __call__ is its __call field. Like the Python module, the file hands over
-- its app in the global `application` (returning it works too).

local AppClass = {}
AppClass.__index = AppClass
AppClass.status = "200 OK"
AppClass.response_headers = {{"Content-type", "text/plain"}}

function AppClass.__call(self, environ, start_response)
  start_response(self.status, self.response_headers)
  return {"Hello AppClass.__call\n"}
end

application = setmetatable({}, AppClass)
