-- Writes chunk 1, works for 1.5 s, then writes chunk 2.
return function(environ, start_response)
  local write = start_response("200 OK", {{"Content-Type", "text/plain"}})
  write("chunk1\n")
  local t = os.clock()
  while os.clock() - t < 1.5 do end
  write("chunk2\n")
  return {}
end
