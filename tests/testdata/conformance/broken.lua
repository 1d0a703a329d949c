-- broken.lua: an app that fails, by PATH_INFO: /before raises before any
-- byte of the response is out; /after raises after the first chunk of a
-- body of unknown length; /after-length after 5 of the 10 bytes it declared
-- in Content-Length.
return function(environ, start_response)
  local case = environ.PATH_INFO
  if case == "/before" then
    error("broken before the headers")
  end
  local headers = {{"Content-Type", "text/plain"}}
  if case == "/after-length" then
    headers[#headers + 1] = {"Content-Length", "10"}
  end
  start_response("200 OK", headers)
  return coroutine.wrap(function()
    coroutine.yield("12345")
    error("broken after the headers")
  end)
end
