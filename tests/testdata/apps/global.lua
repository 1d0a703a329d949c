-- A plugin that returns nothing but defines the global `application`.
function application(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"hello from a global"}
end
