-- App form 1: a plain function.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"hello from a function"}
end
