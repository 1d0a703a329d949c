-- The health request asked after every attack.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"ok\n"}
end
