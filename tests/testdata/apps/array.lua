-- Result form: an array table of chunks.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"x1 ", "x2 ", "x3"}
end
