-- Answers at once.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"fast"}
end
