-- Writes to the log through lsgi.errors and print. QUERY_STRING carries
-- id=<id>.
return function(environ, start_response)
  local id = environ.QUERY_STRING:match("id=(%w+)") or "none"
  local errors = environ["lsgi.errors"]
  errors:write("WRITTEN id=" .. id .. "\n")
  errors:write("PARTS id=", id, " second part\n")
  errors:write("BYTES id=" .. id .. " \0\255\n")
  errors:write("INJECT id=" .. id .. "\nFAKE LOG LINE id=" .. id .. "\n")
  errors:flush()
  print("PRINTED id=" .. id)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"logged"}
end
