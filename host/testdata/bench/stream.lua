local CHUNK = string.rep("x", 99) .. "\n"
return function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  local i = 0
  return function()
    i = i + 1
    if i <= 100 then return CHUNK end
  end
end
