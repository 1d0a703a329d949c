-- appclassiter.lua: the tutorials' AppClassIter, where the app is the class
-- itself. Served at /appclassiter.
--
--   class AppClassIter(object):
--       status = '200 OK'
--       response_headers = [('Content-type', 'text/plain')]
--
--       def __init__(self, environ, start_response):
--           self.environ = environ
--           self.start_response = start_response
--
--       def __iter__(self):
--           self.start_response(self.status, self.response_headers)
--           yield 'Hello AppClassIter\n'
--
-- The server calls the class (Python builds an instance with __init__) and
-- iterates the result (__iter__). In Lua the class's own metatable has the
-- __call that builds the response object, and the class is the metatable
-- of that object, so its __call makes the object an iterator: the server
-- calls it once per chunk until it returns nil. start_response is called
-- from the first step, which is allowed: it only has to come before the
-- first non-empty chunk. The host cannot know the length in advance, so
-- the body goes out without a Content-Length (chunked over HTTP/1.1).

local AppClassIter = {}
AppClassIter.__index = AppClassIter
AppClassIter.status = "200 OK"
AppClassIter.response_headers = {{"Content-type", "text/plain"}}

-- Calling the class builds the response object (Python's __init__).
setmetatable(AppClassIter, {
  __call = function(class, environ, start_response)
    return setmetatable({environ = environ, start_response = start_response, done = false}, class)
  end,
})

-- The server calls the response object once per chunk (Python's __iter__).
function AppClassIter.__call(self)
  if self.done then
    return nil
  end
  self.done = true
  self.start_response(self.status, self.response_headers)
  return "Hello AppClassIter\n"
end

return AppClassIter
