-- A health check: the server still answers after every bomb.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"ok\n"}
end
