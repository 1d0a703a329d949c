return function(environ, start_response)
  start_response("200 OK", {})
  return { "index|" .. environ.SCRIPT_NAME .. "|" .. environ.PATH_INFO }
end
