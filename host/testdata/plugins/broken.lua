return function(environ, start_response)
  start_response("200 OK", {}
end
