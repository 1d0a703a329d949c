return function(environ, start_response)
  local t = os.clock()
  while os.clock() - t < 0.3 do end
  start_response("200 OK", {})
  return { "slow" }
end
