-- Three chunks from an iterator: with ?exact=1 (environ key
-- lsgi.exact_chunks) each goes out as its own HTTP chunk.
return function(environ, start_response)
  if environ.QUERY_STRING == "exact=1" then
    environ["lsgi.exact_chunks"] = true
  end
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  local i = 0
  return function()
    i = i + 1
    if i <= 3 then return "chunk" .. i .. "\n" end
  end
end
