-- A memory bomb within one request: a table of 1 MiB strings, each new,
-- grows until something stops it. Nothing here is larger than 1 MiB, so
-- size caps on single strings do not stop it; a memory fence must.
return function(environ, start_response)
  local s = "x"
  for _ = 1, 20 do s = s .. s end
  local t = {}
  for i = 1, 1e6 do t[i] = s .. i end
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"survived " .. #t .. " MiB\n"}
end
