-- Answers with the mount split it saw.
return function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { environ.SCRIPT_NAME .. "|" .. environ.PATH_INFO }
end
