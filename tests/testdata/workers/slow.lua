-- Sends a first chunk, then computes forever: a request still in flight
-- at shutdown.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  local sent = false
  return function()
    if not sent then
      sent = true
      return "first\n"
    end
    local n = 0
    while true do n = n + 1 end
  end
end
