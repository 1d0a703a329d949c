-- /busy?hold keeps its Lua state for three seconds; with --states 1 every
-- other request to /busy waits for it and gets 503.
return function(environ, start_response)
  if environ.QUERY_STRING == "hold" then
    local t = os.clock()
    while os.clock() - t < 3 do end
  end
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"done\n"}
end
