-- /hello: the smallest response, 13 bytes with a Content-Length.
return function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { "Hello, world!" }
end
