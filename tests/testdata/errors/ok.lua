-- A working plugin beside the broken ones.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"ok"}
end
