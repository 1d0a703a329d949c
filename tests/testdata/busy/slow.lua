-- Logs "SLOW START id=<id>", then works for 2 s, or 0.5 s if the query
-- holds "short", or not at all if it holds "quick".
return function(environ, start_response)
  local q = environ.QUERY_STRING
  environ["lsgi.errors"]:write("SLOW START id=" .. (q:match("id=(%w+)") or "none") .. "\n")
  local work = 2
  if q:find("quick", 1, true) then
    work = 0
  elseif q:find("short", 1, true) then
    work = 0.5
  end
  local t = os.clock()
  while os.clock() - t < work do end
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"slow done"}
end
