-- Answers "hi": the health request of the worker tests.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"hi\n"}
end
