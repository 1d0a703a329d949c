-- Result form: an iterator function, called with no arguments until nil.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  local chunks = {"x1 ", "x2 ", "x3"}
  local i = 0
  return function(...)
    if select("#", ...) ~= 0 then
      error("iterator called with arguments")
    end
    i = i + 1
    return chunks[i]
  end
end
