-- A plugin that does not compile: the error is on line 5.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  local body = "never"
  return {body .. }
end
